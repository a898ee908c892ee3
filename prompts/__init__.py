"""Prompt templates, shipped as package data."""
