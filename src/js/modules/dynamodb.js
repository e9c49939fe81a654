// `@aws-appsync/utils/dynamodb`: the APPSYNC_JS helpers that build DynamoDB
// data-source requests from plain JavaScript values.
//
// Follows:
// - DG/built-in-modules-js.html (functions, operations, inputs);
// - DG/js-resolver-reference-dynamodb.html and its js-aws-appsync-resolver-
//   reference-dynamodb-*.html subpages (the request objects, without `version`);
// - the typings of the `@aws-appsync/utils` package (input names and shapes);
// - outputs recorded against the real EvaluateCode API by
//   github.com/localstack/appsync-utils (__tests__/index.test.js and its snapshot)
//   and third-party EvaluateCode tests: update placeholders are `#expName_N` /
//   `:expValue_N` counted from 1, SET clauses are joined with ", ", `add` and
//   `replace` are SET, markers are `{type: "OPERATION_…", value|by|items}`.
// (DG = https://docs.aws.amazon.com/appsync/latest/devguide/)
//
// AWS's key order carries no meaning (an evaluated update printed as update,
// operation, key: a Java HashMap's order); ours follows the docs' request types.
//
// Bad input throws an Error named after the helper (`dynamodb.get: …`), so a
// resolver fails where the mistake is instead of sending a wrong request.

import { util } from '@aws-appsync/utils';

// ---------------------------------------------------------------------------
// Small checks

function fail(helper, message) {
  throw new Error('dynamodb.' + helper + ': ' + message);
}

function describe(value) {
  if (value === null || value === undefined) {
    return String(value);
  }
  if (Array.isArray(value)) {
    return 'a list of ' + value.length;
  }
  if (typeof value === 'object') {
    return 'an object';
  }
  if (typeof value === 'function') {
    return 'a function';
  }
  return typeof value + ' ' + JSON.stringify(value);
}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Absent means undefined or null: the typings accept `null` for every optional
// input (`limit?: number | null`), and a resolver often passes `ctx.args.x`.
function isAbsent(value) {
  return value === undefined || value === null;
}

function isInteger(value) {
  return typeof value === 'number' && Number.isFinite(value) && Math.floor(value) === value;
}

// Plain assignment would treat "__proto__" as the prototype, not an attribute.
function setProp(obj, key, value) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function requireInput(helper, input) {
  if (!isObject(input)) {
    fail(helper, 'expected an input object, got ' + describe(input));
  }
  return input;
}

function optionalBoolean(helper, input, prop) {
  const value = input[prop];
  if (isAbsent(value)) {
    return undefined;
  }
  if (typeof value !== 'boolean') {
    fail(helper, "Property '" + prop + "' must be a boolean, got " + describe(value));
  }
  return value;
}

function optionalString(helper, input, prop) {
  const value = input[prop];
  if (isAbsent(value)) {
    return undefined;
  }
  if (typeof value !== 'string') {
    fail(helper, "Property '" + prop + "' must be a string, got " + describe(value));
  }
  return value;
}

function optionalInteger(helper, input, prop, min, max) {
  const value = input[prop];
  if (isAbsent(value)) {
    return undefined;
  }
  if (!isInteger(value) || value < min || (max !== undefined && value > max)) {
    const range = max === undefined ? 'at least ' + min : 'from ' + min + ' to ' + max;
    fail(helper, "Property '" + prop + "' must be an integer " + range + ', got ' + describe(value));
  }
  return value;
}

// ---------------------------------------------------------------------------
// Keys and items

// A key holds the table's hash key and, if any, its sort key: DynamoDB keys are
// strings or numbers (the typings' `DynamoDBKey` allows only those).
function toKey(helper, key, where) {
  const what = where || "Property 'key'";
  if (!isObject(key)) {
    fail(helper, what + ' must be an object of key attributes, got ' + describe(key));
  }
  const names = Object.keys(key);
  if (names.length === 0) {
    fail(helper, what + ' must name at least one key attribute');
  }
  const out = {};
  for (const name of names) {
    const value = key[name];
    if (value === undefined) {
      fail(helper, "key attribute '" + name + "' is undefined");
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      fail(helper, "key attribute '" + name + "' must be a string or a number, got " + describe(value));
    }
    setProp(out, name, scalar(value));
  }
  return out;
}

function toItem(helper, item, where) {
  if (!isObject(item)) {
    fail(helper, where + ' must be an object of attributes, got ' + describe(item));
  }
  return toAttributeMap(item);
}

// Values convert as `util.dynamodb.toDynamoDB` does, except a set made by this
// module's (or util's) toStringSet/toNumberSet/toBinarySet, which stays a set:
// AWS exports those helpers here to build items with, and is silent on how
// they are told apart from a map; an object whose one member is SS, NS or BS
// holding a list is taken as a set.
function isTypedSet(value) {
  if (!isObject(value)) {
    return false;
  }
  const keys = Object.keys(value);
  if (keys.length !== 1 || !Array.isArray(value[keys[0]])) {
    return false;
  }
  const list = value[keys[0]];
  if (keys[0] === 'NS') {
    return list.every((v) => typeof v === 'number' || typeof v === 'string');
  }
  return (keys[0] === 'SS' || keys[0] === 'BS') && list.every((v) => typeof v === 'string');
}

function toAttributeValue(value) {
  if (isTypedSet(value)) {
    return value;
  }
  if (Array.isArray(value)) {
    return { L: value.map(toAttributeValue) };
  }
  if (isObject(value)) {
    return { M: toAttributeMap(value) };
  }
  return scalar(value);
}

// A string, number, boolean or null as `util.dynamodb.toDynamoDB` types it,
// without the call into the host (keys and items are mostly scalars).
function scalar(value) {
  switch (typeof value) {
    case 'string':
      return { S: value };
    case 'number':
      return Number.isFinite(value) ? { N: value } : util.dynamodb.toDynamoDB(value);
    case 'boolean':
      return { BOOL: value };
    default:
      return value === null ? { NULL: null } : util.dynamodb.toDynamoDB(value);
  }
}

// Undefined members are left out, as JSON would.
function toAttributeMap(obj) {
  const out = {};
  for (const name of Object.keys(obj)) {
    if (obj[name] !== undefined) {
      setProp(out, name, toAttributeValue(obj[name]));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Placeholders
//
// AppSync merges a request's expression maps (update + condition, query +
// filter + projection) into one DynamoDB call, so placeholders are unique per
// request. Names are `#attr` (reused while they mean the same attribute),
// values `:attr_op`; a taken placeholder gets a `_1`, `_2`, … suffix. Characters
// DynamoDB does not allow in a placeholder become `_`.

function newPlaceholders() {
  return { names: {}, values: {} };
}

function newSection() {
  return { expressionNames: {}, expressionValues: {} };
}

function token(text) {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
    out += ok ? ch : '_';
  }
  return out;
}

function claimName(ph, section, placeholder, attr) {
  let candidate = placeholder;
  let n = 0;
  while (ph.names[candidate] !== undefined && ph.names[candidate] !== attr) {
    n += 1;
    candidate = placeholder + '_' + n;
  }
  ph.names[candidate] = attr;
  section.expressionNames[candidate] = attr;
  return candidate;
}

function nameRef(ph, section, attr) {
  return claimName(ph, section, '#' + token(attr), attr);
}

function valueRef(ph, section, base, value) {
  let candidate = ':' + base;
  let n = 0;
  while (ph.values[candidate]) {
    n += 1;
    candidate = ':' + base + '_' + n;
  }
  ph.values[candidate] = true;
  section.expressionValues[candidate] = toAttributeValue(value);
  return candidate;
}

// Empty maps are left out: DynamoDB rejects an empty ExpressionAttributeValues.
function finish(expression, section) {
  const out = { expression };
  if (Object.keys(section.expressionNames).length > 0) {
    out.expressionNames = section.expressionNames;
  }
  if (Object.keys(section.expressionValues).length > 0) {
    out.expressionValues = section.expressionValues;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Conditions and filters
//
// `{field: {op: value}, and: [...], or: [...], not: {...}}`, as in
// `util.transform.toDynamoDBFilterExpression`. The recorded EvaluateCode
// output of that util (`(contains(#title,:title_contains))`,
// `(attribute_exists(#id)) AND (#version = :version_eq)`) sets the shape: every
// comparison in parentheses, no space after a function's comma, top-level
// clauses joined by AND. AppSync is silent on and/or/not placeholders; like
// this project's VTL `util.transform` (and Amplify) they carry the branch as a
// prefix: `:or_0_title_eq`, `:not_id_eq`.

const COMPARATORS = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' };

const FILTER_OPS = [
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'between', 'in', 'beginsWith', 'contains', 'notContains',
  'attributeExists', 'attributeType', 'size',
];

const KEY_OPS = ['eq', 'lt', 'le', 'gt', 'ge', 'between', 'beginsWith'];

const SIZE_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'between'];

// The typings name attribute types; DynamoDB's own codes are accepted too.
const ATTRIBUTE_TYPES = {
  _null: 'NULL', string: 'S', stringSet: 'SS', number: 'N', numberSet: 'NS',
  binary: 'B', binarySet: 'BS', boolean: 'BOOL', list: 'L', map: 'M',
  NULL: 'NULL', S: 'S', SS: 'SS', N: 'N', NS: 'NS', B: 'B', BS: 'BS', BOOL: 'BOOL', L: 'L', M: 'M',
};

function isScalar(value) {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function isOrdered(value) {
  return typeof value === 'string' || typeof value === 'number';
}

function hasKey(list, key) {
  return list.indexOf(key) >= 0;
}

// Joins parenthesized clauses; a group of several gets its own parentheses.
function group(clauses, joiner) {
  return clauses.length === 1 ? clauses[0] : '(' + clauses.join(' ' + joiner + ' ') + ')';
}

// An object of operators, or (for a map attribute) an object of sub-fields.
function isOperatorMap(ops) {
  const keys = Object.keys(ops);
  for (const key of keys) {
    if (hasKey(FILTER_OPS, key)) {
      return true;
    }
  }
  for (const key of keys) {
    if (!isAbsent(ops[key]) && !isObject(ops[key])) {
      return true; // an unknown operator with a plain value: reported below
    }
  }
  return keys.length === 0;
}

function filterClauses(ctx, filter, prefix) {
  const clauses = [];
  for (const key of Object.keys(filter)) {
    const value = filter[key];
    if (isAbsent(value)) {
      continue;
    }
    if (key === 'and' || key === 'or') {
      clauses.push(logical(ctx, key, value, prefix));
    } else if (key === 'not') {
      if (!isObject(value)) {
        fail(ctx.helper, "'not' in '" + ctx.prop + "' must be a condition object, got " + describe(value));
      }
      const inner = filterClauses(ctx, value, prefix + 'not_');
      if (inner.length === 0) {
        fail(ctx.helper, "'not' in '" + ctx.prop + "' must contain at least one condition");
      }
      clauses.push('(NOT ' + group(inner, 'AND') + ')');
    } else {
      fieldClauses(ctx, [key], value, prefix, clauses);
    }
  }
  return clauses;
}

function logical(ctx, key, value, prefix) {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) {
    fail(ctx.helper, "'" + key + "' in '" + ctx.prop + "' must contain at least one condition");
  }
  const branches = [];
  list.forEach((branch, idx) => {
    if (!isObject(branch)) {
      fail(ctx.helper, "each entry of '" + key + "' in '" + ctx.prop + "' must be a condition object, got " + describe(branch));
    }
    const branchPrefix = prefix + key + (Array.isArray(value) ? '_' + idx : '') + '_';
    const inner = filterClauses(ctx, branch, branchPrefix);
    // Dropping an empty branch would change the meaning of the whole group.
    if (inner.length === 0) {
      fail(ctx.helper, "each entry of '" + key + "' in '" + ctx.prop + "' must contain at least one condition");
    }
    branches.push(group(inner, 'AND'));
  });
  return group(branches, key === 'and' ? 'AND' : 'OR');
}

// `path` is the list of attribute names down to this field: a nested object
// (`{address: {city: {eq: "x"}}}`) filters a map attribute's member. AppSync is
// silent on the expression for it; DynamoDB's document path is the natural one.
function fieldClauses(ctx, path, ops, prefix, clauses) {
  const label = path.join('.');
  if (!isObject(ops)) {
    fail(ctx.helper, "field '" + label + "' in '" + ctx.prop + "' must be an object of operators, got " + describe(ops));
  }
  if (!isOperatorMap(ops)) {
    for (const sub of Object.keys(ops)) {
      if (!isAbsent(ops[sub])) {
        fieldClauses(ctx, path.concat([sub]), ops[sub], prefix, clauses);
      }
    }
    return;
  }
  const ref = path.map((attr) => nameRef(ctx.ph, ctx.section, attr)).join('.');
  const base = prefix + path.map(token).join('_');
  for (const op of Object.keys(ops)) {
    for (const clause of operatorClauses(ctx, label, ref, base, op, ops[op])) {
      clauses.push('(' + clause + ')');
    }
  }
}

// The comparisons one operator makes on one field (none, one, or several for
// `size`), without their parentheses.
function operatorClauses(ctx, label, ref, base, op, value) {
  const where = "'" + op + "' on field '" + label + "' in '" + ctx.prop + "'";
  const bad = (what) => fail(ctx.helper, where + ' ' + what + ', got ' + describe(value));
  const bind = (suffix, v) => valueRef(ctx.ph, ctx.section, base + '_' + suffix, v);
  if (!hasKey(FILTER_OPS, op)) {
    fail(ctx.helper, 'unsupported operator ' + where);
  }
  // eq/ne null compare with DynamoDB's NULL; any other operator given null is
  // left out, as the typings' `| null` suggests.
  if (value === undefined || (value === null && op !== 'eq' && op !== 'ne')) {
    return [];
  }
  if (op === 'eq' || op === 'ne') {
    return [ref + ' ' + COMPARATORS[op] + ' ' + bind(op, value)];
  }
  if (COMPARATORS[op] !== undefined) {
    if (!isOrdered(value)) {
      bad('must be a string or a number');
    }
    return [ref + ' ' + COMPARATORS[op] + ' ' + bind(op, value)];
  }
  if (op === 'between') {
    if (!Array.isArray(value) || value.length !== 2 || !isOrdered(value[0]) || !isOrdered(value[1])) {
      bad('must be a list of two strings or numbers');
    }
    return [ref + ' BETWEEN ' + bind('between_1', value[0]) + ' AND ' + bind('between_2', value[1])];
  }
  if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0 || !value.every(isScalar)) {
      bad('must be a non-empty list of strings, numbers or booleans');
    }
    const refs = value.map((v, idx) => bind('in_' + (idx + 1), v));
    return [ref + ' IN (' + refs.join(',') + ')'];
  }
  if (op === 'beginsWith') {
    if (typeof value !== 'string') {
      bad('must be a string');
    }
    return ['begins_with(' + ref + ',' + bind(op, value) + ')'];
  }
  if (op === 'contains' || op === 'notContains') {
    if (!isScalar(value)) {
      bad('must be a string, a number or a boolean');
    }
    return [(op === 'notContains' ? 'NOT ' : '') + 'contains(' + ref + ',' + bind(op, value) + ')'];
  }
  if (op === 'attributeExists') {
    if (typeof value !== 'boolean') {
      bad('must be a boolean');
    }
    return [(value ? 'attribute_exists(' : 'attribute_not_exists(') + ref + ')'];
  }
  if (op === 'attributeType') {
    if (typeof value !== 'string' || !hasKey(Object.keys(ATTRIBUTE_TYPES), value)) {
      bad("must name a type (string, number, map, ...) or give DynamoDB's code (S, N, M, ...)");
    }
    return ['attribute_type(' + ref + ',' + bind(op, ATTRIBUTE_TYPES[value]) + ')'];
  }
  // size: an object of comparisons on the attribute's size.
  if (!isObject(value)) {
    bad('must be an object of comparisons such as {gt: 3}');
  }
  const out = [];
  for (const sizeOp of Object.keys(value)) {
    const n = value[sizeOp];
    const sizeWhere = "size '" + sizeOp + "' on field '" + label + "' in '" + ctx.prop + "'";
    if (isAbsent(n)) {
      continue;
    }
    if (!hasKey(SIZE_OPS, sizeOp)) {
      fail(ctx.helper, 'unsupported ' + sizeWhere);
    }
    if (sizeOp === 'between') {
      if (!Array.isArray(n) || n.length !== 2 || typeof n[0] !== 'number' || typeof n[1] !== 'number') {
        fail(ctx.helper, sizeWhere + ' must be a list of two numbers, got ' + describe(n));
      }
      out.push('size(' + ref + ') BETWEEN ' + bind('size_between_1', n[0]) + ' AND ' + bind('size_between_2', n[1]));
    } else {
      if (typeof n !== 'number') {
        fail(ctx.helper, sizeWhere + ' must be a number, got ' + describe(n));
      }
      out.push('size(' + ref + ') ' + COMPARATORS[sizeOp] + ' ' + bind('size_' + sizeOp, n));
    }
  }
  return out;
}

// A condition or filter object to `{expression, expressionNames, expressionValues}`;
// undefined when it states nothing (no condition is then sent).
function toExpression(helper, prop, filter, ph) {
  if (isAbsent(filter)) {
    return undefined;
  }
  if (!isObject(filter)) {
    fail(helper, "Property '" + prop + "' is expected to be a valid condition object, got " + describe(filter));
  }
  if (typeof filter.expression === 'string') {
    fail(helper, "Property '" + prop + "' takes a condition object such as {id: {attributeExists: false}}, not a DynamoDB expression");
  }
  const section = newSection();
  const clauses = filterClauses({ helper, prop, ph, section }, filter, '');
  if (clauses.length === 0) {
    return undefined;
  }
  return finish(clauses.join(' AND '), section);
}

// A Query key condition: `eq` on the partition key, and at most one of
// eq lt le gt ge between beginsWith on the sort key; strings or numbers only.
function toKeyCondition(helper, query, ph) {
  // AWS's message for a missing or malformed `query` (quoted in an
  // aws-amplify/docs review thread).
  if (!isObject(query)) {
    fail(helper, "Property 'query' is expected to be a valid condition object, got " + describe(query));
  }
  const fields = Object.keys(query).filter((f) => !isAbsent(query[f]));
  if (fields.length === 0 || fields.length > 2) {
    fail(helper, "Property 'query' must name the partition key and at most one sort key, got " + fields.length + ' attributes');
  }
  const section = newSection();
  const ctx = { helper, prop: 'query', ph, section };
  const clauses = [];
  let equalities = 0;
  for (const field of fields) {
    const ops = query[field];
    if (field === 'and' || field === 'or' || field === 'not') {
      fail(helper, "'" + field + "' is not allowed in a key condition");
    }
    if (!isObject(ops)) {
      fail(helper, "key condition on '" + field + "' must be an object such as {eq: value}, got " + describe(ops));
    }
    const used = Object.keys(ops).filter((op) => ops[op] !== undefined);
    if (used.length !== 1) {
      fail(helper, "key condition on '" + field + "' must use exactly one operator, got " + used.length);
    }
    const op = used[0];
    const value = ops[op];
    if (!hasKey(KEY_OPS, op)) {
      fail(helper, "unsupported key condition operator '" + op + "' on '" + field + "' (use one of " + KEY_OPS.join(', ') + ')');
    }
    if (op !== 'between' && !isOrdered(value)) {
      fail(helper, "key condition '" + op + "' on '" + field + "' must be a string or a number, got " + describe(value));
    }
    if (op === 'eq') {
      equalities += 1;
    }
    fieldClauses(ctx, [field], ops, '', clauses);
  }
  if (equalities === 0) {
    fail(helper, "Property 'query' needs an 'eq' condition on the partition key");
  }
  return finish(clauses.join(' AND '), section);
}

// ---------------------------------------------------------------------------
// Projections

// A projection entry is a document path: `name`, `a.b`, `list[0][1].c`. Each
// dot-separated segment is an attribute name followed by list indexes.
function pathRef(helper, path, ph, section) {
  if (typeof path !== 'string' || path.length === 0) {
    fail(helper, "each entry of 'projection' must be a non-empty attribute path, got " + describe(path));
  }
  const malformed = () => fail(helper, "projection path '" + path + "' is malformed");
  const refs = path.split('.').map((segment) => {
    const open = segment.indexOf('[');
    const name = open < 0 ? segment : segment.slice(0, open);
    const indexes = open < 0 ? '' : segment.slice(open);
    if (name.length === 0 || name.indexOf(']') >= 0) {
      malformed();
    }
    // `indexes` must read `[d…]` repeated.
    let inBracket = false;
    let digits = 0;
    for (const ch of indexes) {
      if (ch === '[' && !inBracket) {
        inBracket = true;
        digits = 0;
      } else if (ch === ']' && inBracket && digits > 0) {
        inBracket = false;
      } else if (inBracket && ch >= '0' && ch <= '9') {
        digits += 1;
      } else {
        malformed();
      }
    }
    if (inBracket) {
      malformed();
    }
    return nameRef(ph, section, name) + indexes;
  });
  return refs.join('.');
}

// AppSync is silent on the projection's placeholders; they use the same
// `#attr` names as conditions, paths joined by ", " as in DynamoDB's docs.
function toProjection(helper, projection, ph) {
  if (isAbsent(projection)) {
    return undefined;
  }
  if (!Array.isArray(projection)) {
    fail(helper, "Property 'projection' must be a list of attribute paths, got " + describe(projection));
  }
  if (projection.length === 0) {
    return undefined;
  }
  const section = newSection();
  const refs = projection.map((path) => pathRef(helper, path, ph, section));
  return { expression: refs.join(', '), expressionNames: section.expressionNames };
}

// ---------------------------------------------------------------------------
// Update expressions

const OP = {
  add: 'OPERATION_ADD',
  remove: 'OPERATION_REMOVE',
  replace: 'OPERATION_REPLACE',
  increment: 'OPERATION_INCREMENT',
  decrement: 'OPERATION_DECREMENT',
  append: 'OPERATION_APPEND',
  prepend: 'OPERATION_PREPEND',
  updateListItem: 'OPERATION_UPDATE_LIST_ITEM',
};

function isMarker(value) {
  return isObject(value) && typeof value.type === 'string' && value.type.indexOf('OPERATION_') === 0;
}

// `update` maps attribute names to new values: a plain value sets the attribute,
// a plain object updates the named members of a map attribute, an operations.*
// marker says how to change it. Each attribute name takes the next N of
// `#expName_N`; its value, if any, is `:expValue_N` with the same N (as recorded).
// AppSync is silent on REMOVE and on where the clauses go: SET first, then REMOVE.
function toUpdate(helper, update, ph) {
  if (!isObject(update)) {
    fail(helper, "Property 'update' must be an object of attribute updates, got " + describe(update));
  }
  const state = { helper, ph, section: newSection(), n: 0, sets: [], removes: [] };
  updateEntries(state, update, '', []);
  if (state.sets.length === 0 && state.removes.length === 0) {
    fail(helper, "Property 'update' must change at least one attribute");
  }
  const clauses = [];
  if (state.sets.length > 0) {
    clauses.push('SET ' + state.sets.join(', '));
  }
  if (state.removes.length > 0) {
    clauses.push('REMOVE ' + state.removes.join(', '));
  }
  return finish(clauses.join(' '), state.section);
}

function updateEntries(state, update, parentRef, parentPath) {
  for (const attr of Object.keys(update)) {
    const value = update[attr];
    if (value === undefined) {
      continue; // as in JSON: an undefined member is not there
    }
    const label = parentPath.concat([attr]).join('.');
    state.n += 1;
    const n = state.n;
    const ref = parentRef + claimName(state.ph, state.section, '#expName_' + n, attr);
    const bind = (v) => valueRef(state.ph, state.section, 'expValue_' + n, v);
    if (isMarker(value)) {
      markerUpdate(state, label, ref, value, bind);
    } else if (Array.isArray(value) && value.length > 0 && value.some(isMarker)) {
      listItemUpdates(state, label, ref, value);
    } else if (isObject(value) && !isTypedSet(value)) {
      if (Object.keys(value).length === 0) {
        fail(state.helper, "update of '" + label + "' is an empty object; use operations.replace({}) to store an empty map");
      }
      updateEntries(state, value, ref + '.', parentPath.concat([attr]));
    } else {
      // Strings, numbers, booleans, lists, sets and null are set as they are
      // (null is stored as DynamoDB NULL, as recorded by EvaluateCode).
      state.sets.push(ref + ' = ' + bind(value));
    }
  }
}

function markerUpdate(state, label, ref, marker, bind) {
  const bad = (what) => fail(state.helper, "operation '" + marker.type + "' on '" + label + "' " + what);
  switch (marker.type) {
    case OP.add:
    case OP.replace:
      if (marker.value === undefined) {
        bad('has no value');
      }
      state.sets.push(ref + ' = ' + bind(marker.value));
      break;
    case OP.remove:
      state.removes.push(ref);
      break;
    case OP.increment:
    case OP.decrement:
      if (typeof marker.by !== 'number' || !Number.isFinite(marker.by)) {
        bad('needs a number to step by, got ' + describe(marker.by));
      }
      state.sets.push(ref + ' = ' + ref + (marker.type === OP.increment ? ' + ' : ' - ') + bind(marker.by));
      break;
    case OP.append:
    case OP.prepend:
      if (!Array.isArray(marker.items)) {
        bad('needs a list of items, got ' + describe(marker.items));
      }
      state.sets.push(marker.type === OP.append
        ? ref + ' = list_append(' + ref + ', ' + bind(marker.items) + ')'
        : ref + ' = list_append(' + bind(marker.items) + ', ' + ref + ')');
      break;
    case OP.updateListItem:
      // A lone updateListItem is taken as a list of one.
      listItemUpdates(state, label, ref, [marker]);
      break;
    default:
      fail(state.helper, "unknown update operation '" + marker.type + "' on '" + label + "'");
  }
}

// `friends: [operations.updateListItem(v, 1), …]` sets list elements by index;
// each element's value takes the next N. AppSync is silent on this output.
function listItemUpdates(state, label, ref, items) {
  for (const item of items) {
    if (!isMarker(item) || item.type !== OP.updateListItem) {
      fail(state.helper, "update of '" + label + "' mixes operations.updateListItem with other values");
    }
    if (item.value === undefined || !isInteger(item.index) || item.index < 0) {
      fail(state.helper, "operations.updateListItem on '" + label + "' needs a value and a list index");
    }
    state.n += 1;
    const placeholder = valueRef(state.ph, state.section, 'expValue_' + state.n, item.value);
    state.sets.push(ref + '[' + item.index + '] = ' + placeholder);
  }
}

// ---------------------------------------------------------------------------
// Optional write fields (conflict detection and sync)

function writeOptions(helper, input, out) {
  const customPartitionKey = optionalString(helper, input, 'customPartitionKey');
  if (customPartitionKey !== undefined) {
    out.customPartitionKey = customPartitionKey;
  }
  const populateIndexFields = optionalBoolean(helper, input, 'populateIndexFields');
  if (populateIndexFields !== undefined) {
    out.populateIndexFields = populateIndexFields;
  }
  const version = optionalInteger(helper, input, '_version', 0);
  if (version !== undefined) {
    out._version = version;
  }
  return out;
}

function withCondition(helper, input, out, ph) {
  const condition = toExpression(helper, 'condition', input.condition, ph);
  if (condition !== undefined) {
    out.condition = condition;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Single-item operations

/** `get({key, consistentRead?, projection?})` → GetItem. */
export function get(input) {
  const helper = 'get';
  requireInput(helper, input);
  const ph = newPlaceholders();
  const out = { operation: 'GetItem', key: toKey(helper, input.key) };
  const consistentRead = optionalBoolean(helper, input, 'consistentRead');
  if (consistentRead !== undefined) {
    out.consistentRead = consistentRead;
  }
  const projection = toProjection(helper, input.projection, ph);
  if (projection !== undefined) {
    out.projection = projection;
  }
  return out;
}

/** `put({key, item, condition?, customPartitionKey?, populateIndexFields?, _version?})` → PutItem. */
export function put(input) {
  const helper = 'put';
  requireInput(helper, input);
  const out = {
    operation: 'PutItem',
    key: toKey(helper, input.key),
    attributeValues: toItem(helper, input.item, "Property 'item'"),
  };
  withCondition(helper, input, out, newPlaceholders());
  return writeOptions(helper, input, out);
}

/** `remove({key, condition?, customPartitionKey?, populateIndexFields?, _version?})` → DeleteItem. */
export function remove(input) {
  const helper = 'remove';
  requireInput(helper, input);
  const out = { operation: 'DeleteItem', key: toKey(helper, input.key) };
  withCondition(helper, input, out, newPlaceholders());
  return writeOptions(helper, input, out);
}

/** `update({key, update, condition?, customPartitionKey?, populateIndexFields?, _version?})` → UpdateItem. */
export function update(input) {
  const helper = 'update';
  requireInput(helper, input);
  const ph = newPlaceholders();
  const out = {
    operation: 'UpdateItem',
    key: toKey(helper, input.key),
    update: toUpdate(helper, input.update, ph),
  };
  withCondition(helper, input, out, ph);
  return writeOptions(helper, input, out);
}

// ---------------------------------------------------------------------------
// Query, Scan, Sync

const SELECT = ['ALL_ATTRIBUTES', 'ALL_PROJECTED_ATTRIBUTES', 'SPECIFIC_ATTRIBUTES'];

function readOptions(helper, input, ph) {
  const opts = {
    index: optionalString(helper, input, 'index'),
    limit: optionalInteger(helper, input, 'limit', 1),
    nextToken: optionalString(helper, input, 'nextToken'),
    consistentRead: optionalBoolean(helper, input, 'consistentRead'),
    select: optionalString(helper, input, 'select'),
  };
  if (opts.select !== undefined && !hasKey(SELECT, opts.select)) {
    fail(helper, "Property 'select' must be one of " + SELECT.join(', ') + ', got ' + describe(opts.select));
  }
  opts.filter = toExpression(helper, 'filter', input.filter, ph);
  opts.projection = toProjection(helper, input.projection, ph);
  return opts;
}

function copyDefined(out, source, names) {
  for (const name of names) {
    if (source[name] !== undefined) {
      out[name] = source[name];
    }
  }
  return out;
}

/**
 * `query({query, index?, limit?, nextToken?, scanIndexForward?, consistentRead?,
 * select?, filter?, projection?})` → Query. `segment`/`totalSegments`, which the
 * shared input type also allows, mean nothing to a Query and are ignored.
 */
export function query(input) {
  const helper = 'query';
  requireInput(helper, input);
  const ph = newPlaceholders();
  const keyCondition = toKeyCondition(helper, input.query, ph);
  const opts = readOptions(helper, input, ph);
  opts.scanIndexForward = optionalBoolean(helper, input, 'scanIndexForward');
  const out = { operation: 'Query', query: keyCondition };
  return copyDefined(out, opts, [
    'index', 'nextToken', 'limit', 'scanIndexForward', 'consistentRead', 'select', 'filter', 'projection',
  ]);
}

/**
 * `scan({index?, limit?, nextToken?, consistentRead?, segment?, totalSegments?,
 * select?, filter?, projection?})` → Scan. `scanIndexForward`, which the shared
 * input type also allows, means nothing to a Scan and is ignored.
 */
export function scan(input) {
  const helper = 'scan';
  requireInput(helper, input);
  const ph = newPlaceholders();
  const opts = readOptions(helper, input, ph);
  opts.totalSegments = optionalInteger(helper, input, 'totalSegments', 1, 1000000);
  opts.segment = optionalInteger(helper, input, 'segment', 0);
  if ((opts.segment === undefined) !== (opts.totalSegments === undefined)) {
    fail(helper, "Properties 'segment' and 'totalSegments' go together");
  }
  if (opts.segment !== undefined && opts.segment >= opts.totalSegments) {
    fail(helper, "Property 'segment' must be less than 'totalSegments'");
  }
  const out = { operation: 'Scan' };
  return copyDefined(out, opts, [
    'index', 'limit', 'consistentRead', 'nextToken', 'totalSegments', 'segment', 'filter', 'projection', 'select',
  ]);
}

/**
 * `sync({basePartitionKey?, deltaIndexName?, limit?, nextToken?, lastSync?,
 * filter?})` → Sync (versioned data sources). The data source defaults `limit`
 * to 100; above 1000 is refused (the documented maximum).
 */
export function sync(input) {
  const helper = 'sync';
  requireInput(helper, input);
  const out = { operation: 'Sync' };
  const opts = {
    basePartitionKey: optionalString(helper, input, 'basePartitionKey'),
    deltaIndexName: optionalString(helper, input, 'deltaIndexName'),
    limit: optionalInteger(helper, input, 'limit', 1, 1000),
    nextToken: optionalString(helper, input, 'nextToken'),
    lastSync: optionalInteger(helper, input, 'lastSync', 0),
    filter: toExpression(helper, 'filter', input.filter, newPlaceholders()),
  };
  return copyDefined(out, opts, ['basePartitionKey', 'deltaIndexName', 'limit', 'nextToken', 'lastSync', 'filter']);
}

// ---------------------------------------------------------------------------
// Batch operations

function requireTables(helper, input) {
  requireInput(helper, input);
  const tables = input.tables;
  if (!isObject(tables) || Object.keys(tables).length === 0) {
    fail(helper, "Property 'tables' must map at least one table name to its entries, got " + describe(tables));
  }
  return tables;
}

function requireList(helper, value, where) {
  if (!Array.isArray(value) || value.length === 0) {
    fail(helper, where + ' must be a non-empty list, got ' + describe(value));
  }
  return value;
}

/** `batchGet({tables: {T: {keys, consistentRead?, projection?}}})` → BatchGetItem. */
export function batchGet(input) {
  const helper = 'batchGet';
  const tables = requireTables(helper, input);
  const out = {};
  for (const table of Object.keys(tables)) {
    const spec = tables[table];
    if (!isObject(spec)) {
      fail(helper, "table '" + table + "' must be an object such as {keys: [...]}, got " + describe(spec));
    }
    const keys = requireList(helper, spec.keys, "'keys' of table '" + table + "'");
    const entry = { keys: keys.map((key) => toKey(helper, key, "each key of table '" + table + "'")) };
    const consistentRead = optionalBoolean(helper, spec, 'consistentRead');
    if (consistentRead !== undefined) {
      entry.consistentRead = consistentRead;
    }
    const projection = toProjection(helper, spec.projection, newPlaceholders());
    if (projection !== undefined) {
      entry.projection = projection;
    }
    setProp(out, table, entry);
  }
  return { operation: 'BatchGetItem', tables: out };
}

/** `batchPut({tables: {T: [item, …]}})` → BatchPutItem. */
export function batchPut(input) {
  const helper = 'batchPut';
  const tables = requireTables(helper, input);
  const out = {};
  for (const table of Object.keys(tables)) {
    const items = requireList(helper, tables[table], "table '" + table + "'");
    setProp(out, table, items.map((item) => toItem(helper, item, "each item of table '" + table + "'")));
  }
  return { operation: 'BatchPutItem', tables: out };
}

/** `batchDelete({tables: {T: [key, …]}})` → BatchDeleteItem. */
export function batchDelete(input) {
  const helper = 'batchDelete';
  const tables = requireTables(helper, input);
  const out = {};
  for (const table of Object.keys(tables)) {
    const keys = requireList(helper, tables[table], "table '" + table + "'");
    setProp(out, table, keys.map((key) => toKey(helper, key, "each key of table '" + table + "'")));
  }
  return { operation: 'BatchDeleteItem', tables: out };
}

// ---------------------------------------------------------------------------
// Transactions

function requireTable(helper, spec, where) {
  if (typeof spec.table !== 'string' || spec.table.length === 0) {
    fail(helper, where + " needs a 'table' name, got " + describe(spec.table));
  }
  return spec.table;
}

function requireItems(helper, input) {
  requireInput(helper, input);
  return requireList(helper, input.items, "Property 'items'");
}

/** `transactGet({items: [{table, key, projection?}, …]})` → TransactGetItems. */
export function transactGet(input) {
  const helper = 'transactGet';
  const items = requireItems(helper, input);
  const transactItems = items.map((spec, idx) => {
    const where = 'items[' + idx + ']';
    if (!isObject(spec)) {
      fail(helper, where + ' must be an object such as {table, key}, got ' + describe(spec));
    }
    const out = { table: requireTable(helper, spec, where), key: toKey(helper, spec.key, where + " property 'key'") };
    const projection = toProjection(helper, spec.projection, newPlaceholders());
    if (projection !== undefined) {
      out.projection = projection;
    }
    return out;
  });
  return { operation: 'TransactGetItems', transactItems };
}

const TRANSACT_KINDS = ['putItem', 'updateItem', 'deleteItem', 'conditionCheck'];

/**
 * `transactWrite({items: [{putItem: {table, key, item, condition?}} |
 * {updateItem: {table, key, update, condition?}} | {deleteItem: {table, key,
 * condition?}} | {conditionCheck: {table, key, condition}}, …]})` →
 * TransactWriteItems. Each entry is its own DynamoDB request, so placeholders
 * start afresh in each.
 */
export function transactWrite(input) {
  const helper = 'transactWrite';
  const items = requireItems(helper, input);
  const transactItems = items.map((entry, idx) => {
    const where = 'items[' + idx + ']';
    const kinds = isObject(entry) ? Object.keys(entry).filter((k) => !isAbsent(entry[k])) : [];
    if (kinds.length !== 1 || !hasKey(TRANSACT_KINDS, kinds[0])) {
      fail(helper, where + ' must have exactly one of ' + TRANSACT_KINDS.join(', '));
    }
    const kind = kinds[0];
    const spec = entry[kind];
    if (!isObject(spec)) {
      fail(helper, where + '.' + kind + ' must be an object, got ' + describe(spec));
    }
    const ph = newPlaceholders();
    const out = { table: requireTable(helper, spec, where + '.' + kind) };
    const key = () => toKey(helper, spec.key, where + '.' + kind + " property 'key'");
    if (kind === 'putItem') {
      out.operation = 'PutItem';
      out.key = key();
      out.attributeValues = toItem(helper, spec.item, where + ".putItem property 'item'");
    } else if (kind === 'updateItem') {
      out.operation = 'UpdateItem';
      out.key = key();
      out.update = toUpdate(helper, spec.update, ph);
    } else if (kind === 'deleteItem') {
      out.operation = 'DeleteItem';
      out.key = key();
    } else {
      out.operation = 'ConditionCheck';
      out.key = key();
    }
    withCondition(helper, spec, out, ph);
    // DynamoDB refuses a ConditionCheck without a condition.
    if (kind === 'conditionCheck' && out.condition === undefined) {
      fail(helper, where + ".conditionCheck needs a 'condition'");
    }
    return out;
  });
  return { operation: 'TransactWriteItems', transactItems };
}

// ---------------------------------------------------------------------------
// Update operation markers (recorded shapes: {type, value|by|items})

function requireItemList(helper, items) {
  if (!Array.isArray(items)) {
    fail(helper, 'expects a list of items, got ' + describe(items));
  }
  return items;
}

// AppSync is silent on increment()/decrement() without an argument (the
// typings make `by` optional): they step by 1.
function step(helper, by) {
  if (by === undefined) {
    return 1;
  }
  if (typeof by !== 'number' || !Number.isFinite(by)) {
    fail(helper, 'expects a number, got ' + describe(by));
  }
  return by;
}

function requireValue(helper, value) {
  if (value === undefined) {
    fail(helper, 'expects a value, got undefined');
  }
  return value;
}

export const operations = {
  /** Sets the attribute (DynamoDB SET, not ADD). */
  add: (value) => ({ type: OP.add, value: requireValue('operations.add', value) }),
  /** Removes the attribute. AppSync is silent on this marker's shape. */
  remove: () => ({ type: OP.remove }),
  /** Sets the whole attribute, even a map (a plain object updates members). */
  replace: (value) => ({ type: OP.replace, value: requireValue('operations.replace', value) }),
  increment: (by) => ({ type: OP.increment, by: step('operations.increment', by) }),
  decrement: (by) => ({ type: OP.decrement, by: step('operations.decrement', by) }),
  append: (items) => ({ type: OP.append, items: requireItemList('operations.append', items) }),
  prepend: (items) => ({ type: OP.prepend, items: requireItemList('operations.prepend', items) }),
  /** Sets the list element at `index`. AppSync is silent on this marker's shape. */
  updateListItem: (value, index) => {
    const helper = 'operations.updateListItem';
    requireValue(helper, value);
    if (!isInteger(index) || index < 0) {
      fail(helper, 'expects a list index (an integer from 0), got ' + describe(index));
    }
    return { type: OP.updateListItem, value, index };
  },
};

// ---------------------------------------------------------------------------
// Sets (also exported by AWS's typings for this module)

function requireTypedList(helper, list, type) {
  if (!Array.isArray(list)) {
    fail(helper, 'expects a list of ' + type + 's, got ' + describe(list));
  }
  list.forEach((v, idx) => {
    if (typeof v !== type) {
      fail(helper, 'expects a list of ' + type + 's, got ' + describe(v) + ' at index ' + idx);
    }
  });
  return list;
}

export function toStringSet(list) {
  return util.dynamodb.toStringSet(requireTypedList('toStringSet', list, 'string'));
}

export function toNumberSet(list) {
  return util.dynamodb.toNumberSet(requireTypedList('toNumberSet', list, 'number'));
}

/** The strings are base64-encoded binary values. */
export function toBinarySet(list) {
  return util.dynamodb.toBinarySet(requireTypedList('toBinarySet', list, 'string'));
}
