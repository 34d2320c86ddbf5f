"""Dispatch domain: experts, requests, assignments, visits."""
