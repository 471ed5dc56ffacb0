"""Helpers shared by several apps' tests (not collected as tests themselves)."""
