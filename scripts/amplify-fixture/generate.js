#!/usr/bin/env node
// Runs Amplify's GraphQL transformer (the Gen 1 `@model` directives) over
// schema.graphql and writes what AppSync would be given to
// tests/projects/amplify: the transformed schema, every mapping template,
// and an appsync.yaml wiring the pipeline resolvers, functions, data sources
// and tables exactly as the generated CloudFormation declares them.
//
// Usage: npm ci && node generate.js [output-dir]

'use strict';

const fs = require('fs');
const path = require('path');
const { App, Stack, NestedStack, Tokenization } = require('aws-cdk-lib');
const { executeTransform } = require('@aws-amplify/graphql-transformer');
const core = require('@aws-amplify/graphql-transformer-core');

const here = __dirname;
const out = path.resolve(process.argv[2] || path.join(here, '..', '..', 'tests', 'projects', 'amplify'));
const schema = fs.readFileSync(path.join(here, 'schema.graphql'), 'utf8');

// The API id and environment name AppSync would fill in at deploy time.
const API_ID = 'local';
const ENV = 'NONE';
const API_KEY = 'da2-amplify-local';

// Templates the transformer stores as S3 assets, by file name (Gen 1's
// `build/resolvers/` layout). Their URL in the stack is `asset:<file>`.
const assets = new Map();
const assetProvider = {
  provide: (_scope, _name, props) => {
    assets.set(props.fileName, props.fileContent);
    const url = `asset:${props.fileName}`;
    return { s3ObjectUrl: url, httpUrl: url };
  },
};

const app = new App();
const root = new Stack(app, 'amplify');
executeTransform({
  schema,
  scope: root,
  nestedStackProvider: { provide: (scope, name) => new NestedStack(scope, name) },
  assetProvider,
  synthParameters: { amplifyEnvironmentName: ENV, apiName: 'amplify' },
  transformersFactoryArgs: {},
  transformParameters: {},
  authConfig: {
    defaultAuthentication: { authenticationType: 'API_KEY' },
    additionalAuthenticationProviders: [],
  },
  dataSourceStrategies: core.constructDataSourceStrategies(schema, core.DDB_DEFAULT_DATASOURCE_STRATEGY),
  printTransformerLog: (log) => console.error(`[transformer ${log.level}] ${log.message}`),
});

const resources = root.node.findAll().filter((c) => typeof c.cfnResourceType === 'string');
const ofType = (type) => resources.filter((c) => c.cfnResourceType === type);

// The schema asset is produced lazily, when its location is resolved.
for (const s of ofType('AWS::AppSync::GraphQLSchema')) Stack.of(s).resolve(s.definitionS3Location);

// Tokens in inline templates and data sources: the API id, and each table's
// name. A token resolves to a Ref or GetAtt naming its resource's logical id.
const logicalIds = new Map();
for (const api of ofType('AWS::AppSync::GraphQLApi')) logicalIds.set(Stack.of(api).getLogicalId(api), API_ID);
const tables = new Map();
for (const t of ofType('AWS::DynamoDB::Table')) {
  const name = t.tableName.split('${Token[')[0].replace(/-$/, '');
  logicalIds.set(Stack.of(t).getLogicalId(t), name);
  tables.set(name, t);
}
const detokenize = (text) =>
  Tokenization.reverseString(text)
    .mapTokens({
      mapToken: (token) => {
        const ref = root.resolve(token);
        const id = ref.Ref || (ref['Fn::GetAtt'] && ref['Fn::GetAtt'][0]);
        if (!logicalIds.has(id)) throw new Error(`unknown token ${JSON.stringify(ref)} in:\n${text}`);
        return logicalIds.get(id);
      },
    })
    .join({ join: (left, right) => `${left}${right}` });

const files = new Map();
const write = (file, content) => {
  if (files.has(file) && files.get(file) !== content) throw new Error(`two contents for ${file}`);
  files.set(file, content);
  return file;
};
// A template is either an asset (keep its generated file) or inline text
// (written beside the others under a name of ours).
const template = (inline, s3, fallback) => {
  if (s3) return write(s3.replace(/^asset:/, ''), assets.get(s3.replace(/^asset:/, '')));
  return write(fallback, detokenize(inline));
};

const dataSources = new Map();
const dsByToken = new Map();
for (const ds of ofType('AWS::AppSync::DataSource')) {
  dsByToken.set(ds.attrName, ds.name);
  dsByToken.set(ds.name, ds.name);
  dataSources.set(ds.name, ds.type === 'AMAZON_DYNAMODB' ? { type: ds.type, tableName: detokenize(ds.dynamoDbConfig.tableName) } : { type: ds.type });
}
const dataSourceName = (ref) => {
  const name = dsByToken.get(ref);
  if (!name) throw new Error(`unknown data source ${ref}`);
  return name;
};

const functions = new Map();
const fnByToken = new Map();
for (const fn of ofType('AWS::AppSync::FunctionConfiguration')) {
  fnByToken.set(fn.attrFunctionId, fn.name);
  functions.set(fn.name, {
    dataSource: dataSourceName(fn.dataSourceName),
    request: template(fn.requestMappingTemplate, fn.requestMappingTemplateS3Location, `resolvers/functions/${fn.name}.req.vtl`),
    response: template(fn.responseMappingTemplate, fn.responseMappingTemplateS3Location, `resolvers/functions/${fn.name}.res.vtl`),
  });
}

const resolvers = [];
for (const r of ofType('AWS::AppSync::Resolver')) {
  if (r.kind !== 'PIPELINE') throw new Error(`${r.typeName}.${r.fieldName}: only pipeline resolvers are expected`);
  const key = `${r.typeName}.${r.fieldName}`;
  resolvers.push({
    key,
    functions: r.pipelineConfig.functions.map((id) => {
      const name = fnByToken.get(id);
      if (!name) throw new Error(`${key}: unknown function ${id}`);
      return name;
    }),
    request: template(r.requestMappingTemplate, r.requestMappingTemplateS3Location, `resolvers/pipeline/${key}.req.vtl`),
    response: template(r.responseMappingTemplate, r.responseMappingTemplateS3Location, `resolvers/pipeline/${key}.res.vtl`),
  });
}
resolvers.sort((a, b) => a.key.localeCompare(b.key));

const keyOf = (keySchema, attributes, type) => {
  const attr = keySchema.find((k) => k.keyType === type);
  if (!attr) return null;
  const def = attributes.find((a) => a.attributeName === attr.attributeName);
  return `{ name: ${attr.attributeName}, type: ${def.attributeType} }`;
};

const lines = [
  '# Generated by scripts/amplify-fixture/generate.js from Amplify\'s GraphQL',
  '# transformer (Gen 1 directives): do not edit, rerun the script.',
  'name: amplify',
  'schema: schema.graphql',
  'authentication: { type: API_KEY }',
  'apiKeys:',
  `  - { name: default, value: ${API_KEY} }`,
  'dataSources:',
];
for (const [name, ds] of [...dataSources].sort()) {
  lines.push(ds.tableName ? `  ${name}: { type: ${ds.type}, config: { tableName: ${ds.tableName} } }` : `  ${name}: { type: ${ds.type} }`);
}
lines.push('resolvers:');
for (const r of resolvers) {
  lines.push(`  ${r.key}:`, '    kind: PIPELINE', `    request: ${r.request}`, `    response: ${r.response}`, `    functions: [${r.functions.join(', ')}]`);
}
lines.push('pipelineFunctions:');
for (const [name, fn] of [...functions].sort()) {
  lines.push(`  ${name}:`, `    dataSource: ${fn.dataSource}`, `    request: ${fn.request}`, `    response: ${fn.response}`);
}
lines.push('tables:');
for (const [name, t] of [...tables].sort()) {
  const attrs = t.attributeDefinitions;
  lines.push(`  ${name}:`, `    partitionKey: ${keyOf(t.keySchema, attrs, 'HASH')}`);
  const sort = keyOf(t.keySchema, attrs, 'RANGE');
  if (sort) lines.push(`    sortKey: ${sort}`);
  const gsis = t.globalSecondaryIndexes || [];
  if (gsis.length) lines.push('    globalSecondaryIndexes:');
  for (const g of gsis) {
    lines.push(`      - indexName: ${JSON.stringify(g.indexName)}`, `        partitionKey: ${keyOf(g.keySchema, attrs, 'HASH')}`);
    const gsort = keyOf(g.keySchema, attrs, 'RANGE');
    if (gsort) lines.push(`        sortKey: ${gsort}`);
    lines.push(`        projection: { type: ${g.projection.projectionType} }`);
  }
}
write('appsync.yaml', `${lines.join('\n')}\n`);
write('schema.graphql', assets.get('schema.graphql'));

fs.rmSync(out, { recursive: true, force: true });
for (const [file, content] of files) {
  if (content === undefined) throw new Error(`no content for ${file}`);
  fs.mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
  fs.writeFileSync(path.join(out, file), content);
}
console.log(`wrote ${files.size} files to ${path.relative(process.cwd(), out)}`);
