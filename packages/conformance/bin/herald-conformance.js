#!/usr/bin/env node
// Published entry: the CLI is built to dist/ (in this repo, tests import src/ directly).
import '../dist/cli.mjs'
