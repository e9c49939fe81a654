#!/usr/bin/env node
// Validates `appSync:` blocks with serverless-appsync-plugin's own schema.
//
//   node validate.mjs FILE.yaml...
//
// Each file is read as tests/plugin_forms.rs reads it: its `appSync:` block,
// or the whole file when it is part of one, with `name` and
// `authentication` filled in when missing. Prints one JSON line per file:
// {"file", "valid", "errors"}.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createRequire } from 'node:module';
import yaml from 'js-yaml';

const require = createRequire(import.meta.url);
const { validateConfig } = require('serverless-appsync-plugin/lib/validation.js');

// CloudFormation's short forms, as Serverless reads them.
const tags = ['Ref', 'GetAtt', 'Sub', 'Join', 'ImportValue', 'If', 'Select', 'Split', 'FindInMap']
  .flatMap((name) =>
    ['scalar', 'sequence', 'mapping'].map(
      (kind) =>
        new yaml.Type(`!${name}`, {
          kind,
          construct: (data) => ({ [name === 'Ref' ? 'Ref' : `Fn::${name}`]: data }),
        }),
    ),
  );
const schema = yaml.DEFAULT_SCHEMA.extend(tags);

for (const file of process.argv.slice(2)) {
  let value;
  try {
    value = yaml.load(readFileSync(file, 'utf8'), { schema });
  } catch (err) {
    console.log(JSON.stringify({ file: basename(file), valid: false, errors: [`not YAML: ${err.reason}`] }));
    continue;
  }
  let block = value?.appSync ?? (value?.['Query.user'] ? { resolvers: value } : value);
  block = { name: 'docs', authentication: { type: 'API_KEY' }, ...block };
  try {
    validateConfig(block);
    console.log(JSON.stringify({ file: basename(file), valid: true, errors: [] }));
  } catch (err) {
    console.log(JSON.stringify({ file: basename(file), valid: false, errors: String(err.message).split('\n') }));
  }
}
