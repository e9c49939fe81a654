// `@aws-appsync/utils/rds`: the APPSYNC_JS helpers that build requests for a
// relational (Aurora Data API) data source: SQL statements whose values travel
// in a variable map, never inside the SQL text.
//
// Follows:
// - DG/resolver-reference-rds-js.html (sql tagged template, createPgStatement /
//   createMySQLStatement with at most two statements, select / insert /
//   update / remove, casting with typeHint, toJsonObject);
// - DG/built-in-modules-js.html, "Amazon RDS module functions" (the same
//   helpers, the condition operators and their value types);
// - the typings of the `@aws-appsync/utils` package (rds.d.ts: the exports,
//   input names and shapes: `from`, table and column aliases, `agg`,
//   `groupBy`, `having`, joins);
// - outputs and messages recorded against the real EvaluateCode API by
//   github.com/localstack/appsync-utils (__tests__/resolvers.test.js and its
//   snapshot): variables are `:P0`, `:P1`, … numbered across both statements
//   of a request; identifiers are quoted per dot-separated part; clause
//   keywords are upper case and `ORDER BY` spells ASC out; an alias
//   `{a: "t"}` reads `"t" as "a"`; nullish values become a NULL literal;
//   `contains` binds `%v%`, `beginsWith` `v%`, `notContains` `v`.
// (DG = https://docs.aws.amazon.com/appsync/latest/devguide/)
//
// The docs write variables as `:NAME`, `:ID`; the recordings show AppSync
// names them `:P0`, `:P1`, …, which is what this module does.
//
// The recordings also show AppSync building a statement from clause
// fragments and leaving out those that render to nothing: some inputs make it
// emit SQL the database refuses (`SELECT FROM`, `SET WHERE`, a dangling
// `RETURNING` or `AND`). This module renders the same text, so a query that
// fails on AppSync fails here too.
//
// Bad input throws an Error named after the helper (`rds.select: …`), worded
// as AppSync words it where a message was recorded. Statements are checked
// when they are built, so the error points at the helper call; only what
// depends on the dialect (MySQL has no RETURNING) waits for
// createPgStatement / createMySQLStatement.

import { util } from '@aws-appsync/utils';

// ---------------------------------------------------------------------------
// Small checks

function fail(helper, message) {
  throw new Error('rds.' + helper + ': ' + message);
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

// AppSync treats an undefined value like null (`{eq: undefined}` fails as
// "can't be null"; `values: {name: undefined}` inserts NULL).
function isAbsent(value) {
  return value === undefined || value === null;
}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Plain assignment would treat "__proto__" as the prototype, not a variable.
function setProp(obj, key, value) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------
// Statements and aggregates
//
// A statement is built into a dialect-free list of pieces: text (a string),
// an identifier `{k: 'name', name}` or a value `{k: 'value', value}`.
// createPgStatement / createMySQLStatement quote the identifiers and number
// the values. The record sits under a hidden key with a module-private tag,
// so an object that merely looks like a statement is not taken for one.

const TAG = {};
const HIDDEN = '__awsAppsyncRds';

function mark(kind, fields) {
  const out = {};
  Object.defineProperty(out, HIDDEN, { value: Object.assign({ tag: TAG, kind }, fields) });
  return out;
}

function record(value) {
  if (!isObject(value)) {
    return undefined;
  }
  const rec = value[HIDDEN];
  return rec !== undefined && rec !== null && rec.tag === TAG ? rec : undefined;
}

function isStatement(value) {
  const rec = record(value);
  return rec !== undefined && rec.kind !== 'agg';
}

function isAggregate(value) {
  const rec = record(value);
  return rec !== undefined && rec.kind === 'agg';
}

// A condition, payload or alias object: not a statement or an aggregate.
function isPlainObject(value) {
  return isObject(value) && record(value) === undefined;
}

// A type hint is the plain object `typeHint.X(v)` returns (recorded as
// `{type: "UUID", value: "abc123"}`); AppSync is silent on how it tells one
// from a value, so any object of exactly `type` (a known hint) and `value` is
// a hint.
const HINTS = ['DATE', 'DECIMAL', 'JSON', 'TIME', 'TIMESTAMP', 'UUID'];

function isTypeHint(value) {
  if (!isPlainObject(value)) {
    return false;
  }
  const keys = Object.keys(value);
  return keys.length === 2 && keys.indexOf('type') >= 0 && keys.indexOf('value') >= 0 &&
    HINTS.indexOf(value.type) >= 0;
}

function name(text) {
  return { k: 'name', name: text };
}

// A value, or the NULL literal for a nullish one (recorded: `VALUES (:P0,
// NULL)`, `BETWEEN NULL AND :P0`). AppSync is silent on a type hint around a
// nullish value; it is NULL too, as the hint has nothing to type.
function value(v) {
  if (isAbsent(v) || (isTypeHint(v) && isAbsent(v.value))) {
    return 'NULL';
  }
  return { k: 'value', value: v };
}

function isEmpty(pieces) {
  return pieces.every((p) => p === '');
}

function joinPieces(list, separator) {
  const out = [];
  list.forEach((pieces, idx) => {
    if (idx > 0) {
      out.push(separator);
    }
    pieces.forEach((p) => out.push(p));
  });
  return out;
}

// A statement's clauses, separated by one space; empty ones are left out.
function clauses(list) {
  return joinPieces(list.filter((pieces) => !isEmpty(pieces)), ' ');
}

function parenthesized(pieces) {
  return ['('].concat(pieces, [')']);
}

// ---------------------------------------------------------------------------
// Payloads, tables and columns

function requirePayload(helper, payload) {
  if (payload === undefined) {
    fail(helper, 'An argument is expected to be passed to ' + helper);
  }
  if (!isPlainObject(payload)) {
    fail(helper, 'Expected payload to be an Object.');
  }
  return payload;
}

// A sub-statement where a table or a column may stand: a select (or a sql
// template) in parentheses. AppSync is silent on how it renders these, which
// its typings allow.
function subquery(helper, stmt, where) {
  const rec = record(stmt);
  if (rec.kind !== 'select' && rec.kind !== 'sql') {
    fail(helper, where + ' takes a select or a sql template, not ' + rec.kind);
  }
  return parenthesized(rec.pieces);
}

// `{alias: source}`: one entry, rendered `source as "alias"` (recorded:
// `{persons: "p"}` gives `"p" as "persons"`).
function aliasPieces(helper, alias, allowAggregate) {
  const keys = Object.keys(alias);
  if (keys.length === 0) {
    // AppSync fails here with java.util.NoSuchElementException.
    fail(helper, 'table alias is allowed only one key-value pair, got none.');
  }
  if (keys.length > 1) {
    fail(helper, 'table alias is allowed only one key-value pair.');
  }
  const source = alias[keys[0]];
  let pieces;
  if (typeof source === 'string') {
    pieces = [name(source)];
  } else if (isStatement(source)) {
    pieces = subquery(helper, source, "alias '" + keys[0] + "'");
  } else if (allowAggregate && isAggregate(source)) {
    pieces = aggregatePieces(source);
  } else {
    fail(helper, 'Table alias value is expected to be a string.');
  }
  return pieces.concat([' as ', name(keys[0])]);
}

function tableName(helper, table) {
  if (typeof table === 'string') {
    return [name(table)];
  }
  if (!isPlainObject(table)) {
    fail(helper, 'table name is expected to be a string or alias.');
  }
  return aliasPieces(helper, table, false);
}

// `table` or `from` (select only: insert, update and remove read `table` and
// ignore `from`, as recorded).
function tablePieces(helper, payload, allowFrom) {
  const hasTable = !isAbsent(payload.table);
  const hasFrom = allowFrom && !isAbsent(payload.from);
  if (hasTable && hasFrom) {
    fail(helper, "'from' and 'table' keys cannot be used together");
  }
  if (hasTable) {
    return tableName(helper, payload.table);
  }
  if (!hasFrom) {
    fail(helper, "'table' or 'from' key is required.");
  }
  const from = payload.from;
  if (typeof from === 'string') {
    return [name(from)];
  }
  if (isStatement(from)) {
    return subquery(helper, from, "'from'");
  }
  if (!isPlainObject(from)) {
    fail(helper, "'from' value is expected to be string or object.");
  }
  return aliasPieces(helper, from, false);
}

// A column list (`columns`, `returning`): '*' or a list of names, aliases and
// aggregates. A whole `*` column stays bare; `persons.*` is quoted per part,
// as recorded (`"persons"."*"`). An empty list renders nothing.
function columnPieces(helper, columns) {
  if (columns === '*') {
    return ['*'];
  }
  if (!Array.isArray(columns)) {
    fail(helper, 'Expected column to be * or an array.');
  }
  return joinPieces(columns.map((column) => {
    if (typeof column === 'string') {
      return [name(column)];
    }
    if (isAggregate(column)) {
      return aggregatePieces(column);
    }
    if (isPlainObject(column)) {
      return aliasPieces(helper, column, true);
    }
    return fail(helper, 'Invalid type in column array.');
  }), ', ');
}

// `returning` (Postgres only): '*' or a list of columns. The list is checked
// here; MySQL refuses it when the statement is created (recorded order: a
// malformed list is reported before the dialect).
function returningPieces(helper, payload) {
  if (isAbsent(payload.returning)) {
    return [];
  }
  return clauses([['RETURNING'], columnPieces(helper, payload.returning)]);
}

// ---------------------------------------------------------------------------
// Conditions
//
// `{column: {op: value, …}, and: [...], or: [...], not: [...]}`. As recorded:
// a column's comparisons are joined by AND without parentheses; each entry of
// and/or is parenthesized and the entries are joined by AND/OR; the parts of
// one object are joined by AND, so an `or` next to other parts is not
// grouped (`a AND (b) OR (c)`: SQL reads it as `(a AND b) OR c`). An empty
// part renders nothing but keeps its separator (`WHERE  OR`). AppSync is
// silent on `not` (the docs show `NOT ("name" = :NAME AND "id" > :ID)`): it
// renders its entries as `and` does, inside `NOT (…)`.

const COMPARATORS = { eq: '=', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };

const AGGREGATES = {
  max: ['MAX', false],
  maxDistinct: ['MAX', true],
  min: ['MIN', false],
  minDistinct: ['MIN', true],
  count: ['COUNT', false],
  countDistinct: ['COUNT', true],
  avg: ['AVG', false],
  avgDistinct: ['AVG', true],
  sum: ['SUM', false],
  sumDistinct: ['SUM', true],
};

function isAggregateOp(op) {
  return Object.keys(AGGREGATES).indexOf(op) >= 0;
}

function isComparable(v) {
  return typeof v === 'string' || typeof v === 'number' || isTypeHint(v);
}

function conditionPieces(helper, condition) {
  return joinPieces(Object.keys(condition).map((key) => {
    const v = condition[key];
    if (key === 'and' || key === 'or' || key === 'not') {
      return groupPieces(helper, key, v);
    }
    return columnConditionPieces(helper, key, v);
  }), ' AND ');
}

function groupPieces(helper, key, list) {
  if (!Array.isArray(list)) {
    fail(helper, key + ' expects conditions to be an array');
  }
  const entries = list.map((entry) => {
    if (!isPlainObject(entry)) {
      fail(helper, 'Expected ' + key + ' to be an Object.');
    }
    const pieces = conditionPieces(helper, entry);
    return isEmpty(pieces) ? [] : parenthesized(pieces);
  });
  if (key === 'not') {
    const inner = joinPieces(entries, ' AND ');
    return isEmpty(inner) ? [] : ['NOT '].concat(parenthesized(inner));
  }
  return joinPieces(entries, key === 'and' ? ' AND ' : ' OR ');
}

function columnConditionPieces(helper, column, ops) {
  if (!isPlainObject(ops)) {
    fail(helper, 'Expected condition to be an Object.');
  }
  return joinPieces(Object.keys(ops).map((op) => operatorPieces(helper, column, op, ops[op])), ' AND ');
}

function betweenPieces(helper, label, bounds) {
  if (!Array.isArray(bounds)) {
    fail(helper, label + ' condition expects an array with length of 2.');
  }
  if (bounds.length !== 2) {
    fail(helper, label + ' condition expects an array with 2 values but received an array with length ' +
      bounds.length + '.');
  }
  bounds.forEach((b) => {
    if (!isAbsent(b) && !isComparable(b)) {
      fail(helper, label + ' expects string, number or type hint values, got ' + describe(b));
    }
  });
  return [' BETWEEN ', value(bounds[0]), ' AND ', value(bounds[1])];
}

// size and the aggregates: comparisons on a function of the column. A nullish
// value is a NULL literal here (recorded: `LENGTH ("name") = NULL`).
function functionComparisons(helper, label, target, comparisons) {
  if (!isPlainObject(comparisons)) {
    fail(helper, 'Expected ' + label + ' to be an Object.');
  }
  return joinPieces(Object.keys(comparisons).map((op) => {
    const v = comparisons[op];
    if (op === 'between') {
      return target.concat(betweenPieces(helper, label, v));
    }
    if (COMPARATORS[op] === undefined) {
      fail(helper, label + ' has invalid ' + label.slice(label.lastIndexOf('.') + 1) + ' operator.');
    }
    if (!isAbsent(v) && !isComparable(v)) {
      fail(helper, label + '.' + op + ' expects a number, a string or a type hint, got ' + describe(v));
    }
    return target.concat([' ' + COMPARATORS[op] + ' ', value(v)]);
  }), ' AND ');
}

function operatorPieces(helper, column, op, v) {
  const label = column + '.' + op;
  const target = [name(column)];
  if (op === 'size') {
    // Recorded: `LENGTH ("name")`, with the space.
    return functionComparisons(helper, label, ['LENGTH ('].concat(target, [')']), v);
  }
  if (isAggregateOp(op)) {
    // AppSync is silent on aggregate conditions (typings only): `MAX("price") > :P0`.
    const [fn, distinct] = AGGREGATES[op];
    return functionComparisons(helper, label, [fn + (distinct ? '(DISTINCT ' : '(')].concat(target, [')']), v);
  }
  const known = COMPARATORS[op] !== undefined ||
    ['between', 'beginsWith', 'contains', 'notContains', 'attributeExists'].indexOf(op) >= 0;
  if (!known) {
    fail(helper, 'Unsupported condition ' + label + '.');
  }
  if (isAbsent(v)) {
    fail(helper, 'Value for ' + label + " can't be null.");
  }
  if (COMPARATORS[op] !== undefined) {
    // The docs' value types: eq/ne take a boolean too, the orderings do not.
    const ok = isComparable(v) || ((op === 'eq' || op === 'ne') && typeof v === 'boolean');
    if (!ok) {
      fail(helper, label + ' expects a ' + (op === 'eq' || op === 'ne' ? 'string, number or boolean' : 'string or number') +
        ' value (or a type hint) to be passed, got ' + describe(v));
    }
    return target.concat([' ' + COMPARATORS[op] + ' ', value(v)]);
  }
  if (op === 'between') {
    return target.concat(betweenPieces(helper, label, v));
  }
  if (op === 'attributeExists') {
    if (typeof v !== 'boolean') {
      fail(helper, label + ' expects a boolean value to be passed.');
    }
    return target.concat([v ? ' IS NOT NULL' : ' IS NULL']);
  }
  if (typeof v !== 'string') {
    fail(helper, label + ' expects a string value to be passed.');
  }
  if (op === 'beginsWith') {
    return target.concat([' LIKE ', value(v + '%')]);
  }
  // Recorded: contains binds `%v%`, notContains binds `v` as given.
  return op === 'contains'
    ? target.concat([' LIKE ', value('%' + v + '%')])
    : target.concat([' NOT LIKE ', value(v)]);
}

// `where` (and `having`, a join's `on`): a condition object or a sql
// template; nullish is none. An empty result means no clause.
function wherePieces(helper, prop, where) {
  if (isAbsent(where)) {
    return [];
  }
  const rec = record(where);
  if (rec !== undefined && rec.kind === 'sql') {
    return rec.pieces;
  }
  if (!isPlainObject(where)) {
    if (prop === 'where') {
      fail(helper, 'WHERE values are expected to be SQL templates or a condition object.');
    }
    fail(helper, prop + ' values are expected to be SQL templates or a condition object.');
  }
  return conditionPieces(helper, where);
}

function keywordClause(keyword, pieces) {
  return isEmpty(pieces) ? [] : [keyword + ' '].concat(pieces);
}

// ---------------------------------------------------------------------------
// select's other clauses

// The join kinds of the typings, in SQL. AppSync is silent on how joins
// render; each entry is `KIND table [ON cond | USING (cols)]`, in the order
// the payload lists them.
const JOINS = {
  join: 'JOIN',
  innerJoin: 'INNER JOIN',
  leftJoin: 'LEFT JOIN',
  leftOuterJoin: 'LEFT OUTER JOIN',
  rightJoin: 'RIGHT JOIN',
  rightOuterJoin: 'RIGHT OUTER JOIN',
  fullOuterJoin: 'FULL OUTER JOIN',
  crossJoin: 'CROSS JOIN',
  joinNatural: 'NATURAL JOIN',
  innerJoinNatural: 'NATURAL INNER JOIN',
  leftJoinNatural: 'NATURAL LEFT JOIN',
  leftOuterJoinNatural: 'NATURAL LEFT OUTER JOIN',
  rightJoinNatural: 'NATURAL RIGHT JOIN',
  rightOuterJoinNatural: 'NATURAL RIGHT OUTER JOIN',
  fullOuterJoinNatural: 'NATURAL FULL OUTER JOIN',
};

function joinClauses(helper, payload) {
  const out = [];
  Object.keys(payload).filter((key) => JOINS[key] !== undefined && !isAbsent(payload[key])).forEach((key) => {
    const list = payload[key];
    if (!Array.isArray(list)) {
      fail(helper, key + ' expects an array.');
    }
    list.forEach((entry) => {
      if (!isPlainObject(entry)) {
        fail(helper, key + ' item expected to be an object.');
      }
      const hasOn = !isAbsent(entry.on);
      const hasUsing = !isAbsent(entry.using);
      if (hasOn && hasUsing) {
        fail(helper, key + " item takes 'on' or 'using', not both.");
      }
      let pieces = [JOINS[key] + ' '].concat(tablePieces(helper, entry, true));
      if (hasOn) {
        const on = wherePieces(helper, 'on', entry.on);
        pieces = isEmpty(on) ? pieces : pieces.concat([' ON '], on);
      }
      if (hasUsing) {
        if (!Array.isArray(entry.using)) {
          fail(helper, key + " item's 'using' expects an array.");
        }
        pieces = pieces.concat([' USING '], parenthesized(columnPieces(helper, entry.using)));
      }
      out.push(pieces);
    });
  });
  return out;
}

// AppSync is silent on groupBy: names are quoted, numbers are column positions.
function groupByPieces(helper, groupBy) {
  if (isAbsent(groupBy)) {
    return [];
  }
  if (!Array.isArray(groupBy)) {
    fail(helper, 'groupBy expects an array.');
  }
  return joinPieces(groupBy.map((item) => {
    if (typeof item === 'string') {
      return [name(item)];
    }
    if (typeof item === 'number' && Number.isFinite(item) && Math.floor(item) === item && item > 0) {
      return [String(item)];
    }
    return fail(helper, 'Invalid type in groupBy array.');
  }), ', ');
}

// Recorded: a lowercase dir is upper-cased, a missing or non-string one is
// ASC (and spelled out), any other string is refused.
function orderByPieces(helper, orderBy) {
  if (isAbsent(orderBy)) {
    return [];
  }
  if (!Array.isArray(orderBy)) {
    fail(helper, 'orderBy expects an array.');
  }
  return joinPieces(orderBy.map((item) => {
    if (!isPlainObject(item)) {
      fail(helper, 'orderBy item expected to be an object.');
    }
    if (typeof item.column !== 'string') {
      fail(helper, 'orderBy item expected to have property column.');
    }
    let dir = 'ASC';
    if (typeof item.dir === 'string') {
      dir = item.dir.toUpperCase();
      if (dir !== 'ASC' && dir !== 'DESC') {
        fail(helper, 'orderBy dir can have either ASC or DESC found ' + item.dir + '.');
      }
    }
    return [name(item.column), ' ' + dir];
  }), ', ');
}

// Recorded: a number, or a string holding one, is bound as a number; 0 is
// kept; nullish leaves the clause out.
function countClause(helper, keyword, prop, v) {
  if (isAbsent(v)) {
    return [];
  }
  let n = v;
  if (typeof v === 'string' && v.trim() !== '') {
    n = Number(v);
  }
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    fail(helper, prop + ' expects a number.');
  }
  return [keyword + ' ', value(n)];
}

// ---------------------------------------------------------------------------
// The statement helpers

/**
 * `select({table | from, columns?, where?, orderBy?, limit?, offset?, groupBy?,
 * having?, join?, leftJoin?, …})`: `SELECT cols FROM table [joins] [WHERE …]
 * [GROUP BY …] [HAVING …] [ORDER BY …] [LIMIT :Pn] [OFFSET :Pn]`.
 */
export function select(payload) {
  const helper = 'select';
  requirePayload(helper, payload);
  const table = tablePieces(helper, payload, true);
  const columns = isAbsent(payload.columns) ? ['*'] : columnPieces(helper, payload.columns);
  const parts = [['SELECT'], columns, ['FROM'], table].concat(joinClauses(helper, payload), [
    keywordClause('WHERE', wherePieces(helper, 'where', payload.where)),
    keywordClause('GROUP BY', groupByPieces(helper, payload.groupBy)),
    keywordClause('HAVING', wherePieces(helper, 'having', payload.having)),
    keywordClause('ORDER BY', orderByPieces(helper, payload.orderBy)),
    countClause(helper, 'LIMIT', 'limit', payload.limit),
    countClause(helper, 'OFFSET', 'offset', payload.offset),
  ]);
  return mark('select', { helper, pieces: clauses(parts), returning: false });
}

function requireValues(helper, payload) {
  const values = payload.values;
  if (isAbsent(values)) {
    fail(helper, 'values are expected to be passed to ' + helper);
  }
  if (!isPlainObject(values)) {
    fail(helper, 'Expected values to an Object.');
  }
  Object.keys(values).forEach((column) => {
    if (isStatement(values[column]) || isAggregate(values[column])) {
      fail(helper, "values can't hold a statement or an aggregate (column '" + column + "')");
    }
  });
  return values;
}

/**
 * `insert({table, values, returning?})`: `INSERT INTO table (cols) VALUES (…)
 * [RETURNING …]`; one row, each value bound (nullish ones are NULL).
 */
export function insert(payload) {
  const helper = 'insert';
  requirePayload(helper, payload);
  const table = tablePieces(helper, payload, false);
  const values = requireValues(helper, payload);
  const columns = Object.keys(values);
  const parts = [
    ['INSERT INTO'],
    table,
    parenthesized(joinPieces(columns.map((c) => [name(c)]), ', ')),
    ['VALUES'],
    parenthesized(joinPieces(columns.map((c) => [value(values[c])]), ', ')),
    returningPieces(helper, payload),
  ];
  return mark('insert', { helper, pieces: clauses(parts), returning: !isAbsent(payload.returning) });
}

/**
 * `update({table, values, where?, returning?})`: `UPDATE table SET "c" = :Pn, …
 * [WHERE …] [RETURNING …]`. Without `where`, every row is updated.
 */
export function update(payload) {
  const helper = 'update';
  requirePayload(helper, payload);
  const table = tablePieces(helper, payload, false);
  const values = requireValues(helper, payload);
  const sets = joinPieces(Object.keys(values).map((c) => [name(c), ' = ', value(values[c])]), ', ');
  const parts = [
    ['UPDATE'],
    table,
    ['SET'],
    sets,
    keywordClause('WHERE', wherePieces(helper, 'where', payload.where)),
    returningPieces(helper, payload),
  ];
  return mark('update', { helper, pieces: clauses(parts), returning: !isAbsent(payload.returning) });
}

/**
 * `remove({table, where?, returning?})`: `DELETE FROM table [WHERE …]
 * [RETURNING …]` (`delete` is a JavaScript keyword). The docs' comment
 * shows `DELETE "persons"`; AppSync renders `DELETE FROM`.
 */
export function remove(payload) {
  const helper = 'remove';
  requirePayload(helper, payload);
  const table = tablePieces(helper, payload, false);
  const parts = [
    ['DELETE FROM'],
    table,
    keywordClause('WHERE', wherePieces(helper, 'where', payload.where)),
    returningPieces(helper, payload),
  ];
  return mark('remove', { helper, pieces: clauses(parts), returning: !isAbsent(payload.returning) });
}

/**
 * The `sql` tag: the template's text as written, each `${value}` a variable.
 * The text is not quoted or escaped. AppSync is silent on a nullish value
 * here: it is a NULL literal, as in insert and update. It is silent on a
 * statement inside a template too: a sql template is spliced in as SQL (its
 * values stay variables), a select as a parenthesized subquery.
 */
export function sql(strings, ...values) {
  const helper = 'sql';
  if (!Array.isArray(strings) || !strings.every((s) => typeof s === 'string')) {
    fail(helper, 'expects to be used as a tag: sql`SELECT … ${value}`');
  }
  if (strings.length !== values.length + 1) {
    // AppSync: java.lang.IllegalArgumentException: Unexpected argument passed to sql tagged template
    fail(helper, 'Unexpected argument passed to sql tagged template');
  }
  const pieces = [strings[0]];
  values.forEach((v, idx) => {
    const rec = record(v);
    if (rec !== undefined && rec.kind === 'sql') {
      rec.pieces.forEach((p) => pieces.push(p));
    } else if (rec !== undefined && rec.kind === 'select') {
      parenthesized(rec.pieces).forEach((p) => pieces.push(p));
    } else if (rec !== undefined) {
      fail(helper, 'a template value may be a select or a sql template, not ' +
        (rec.kind === 'agg' ? 'an aggregate' : rec.kind));
    } else {
      pieces.push(value(v));
    }
    pieces.push(strings[idx + 1]);
  });
  return mark('sql', { helper, pieces, returning: false });
}

// ---------------------------------------------------------------------------
// Requests

function quoteName(quote, text) {
  if (text === '*') {
    return '*';
  }
  // Each dot-separated part is quoted (recorded: `"private"."persons"`); a
  // quote character inside a name is doubled.
  return text.split('.').map((part) => quote + part.split(quote).join(quote + quote) + quote).join('.');
}

// A built statement loses the spaces an empty last fragment leaves (recorded:
// `… WHERE "name" = :P0 AND`); a sql template keeps its text as written.
function render(req, rec) {
  let out = '';
  rec.pieces.forEach((p) => {
    if (typeof p === 'string') {
      out += p;
    } else if (p.k === 'name') {
      out += quoteName(req.quote, p.name);
    } else {
      const placeholder = ':P' + req.next;
      req.next += 1;
      if (isTypeHint(p.value)) {
        setProp(req.variableMap, placeholder, p.value.value);
        setProp(req.variableTypeHintMap, placeholder, p.value.type);
      } else {
        setProp(req.variableMap, placeholder, p.value);
      }
      out += placeholder;
    }
  });
  return rec.kind === 'sql' ? out : out.trim();
}

function createStatement(fn, dialect, args) {
  const req = {
    quote: dialect === 'MySQL' ? '`' : '"',
    next: 0,
    variableMap: {},
    variableTypeHintMap: {},
  };
  if (args.length === 0 || args[0] === undefined) {
    fail(fn, 'An argument is expected to be passed to ' + fn);
  }
  if (args.length > 2) {
    fail(fn, 'accepts at most two statements, got ' + args.length);
  }
  const list = args.length === 2 && !isAbsent(args[1]) ? [args[0], args[1]] : [args[0]];
  const statements = list.map((stmt) => {
    // A plain string is sent as written (recorded, even with `"` in MySQL).
    if (typeof stmt === 'string') {
      return stmt;
    }
    if (!isStatement(stmt)) {
      fail(fn, 'Unsupported type is passed as argument to ' + fn);
    }
    const rec = record(stmt);
    if (rec.returning && dialect === 'MySQL') {
      fail(rec.helper, 'returning is not supported in MySQL.');
    }
    return render(req, rec);
  });
  return { statements, variableMap: req.variableMap, variableTypeHintMap: req.variableTypeHintMap };
}

/**
 * `createPgStatement(s1, s2?)`: the request for a PostgreSQL database;
 * identifiers are quoted with `"`.
 */
export function createPgStatement(...args) {
  return createStatement('createPgStatement', 'Postgres', args);
}

/**
 * `createMySQLStatement(s1, s2?)`: the request for a MySQL database;
 * identifiers are quoted with backticks; `returning` is refused.
 */
export function createMySQLStatement(...args) {
  return createStatement('createMySQLStatement', 'MySQL', args);
}

// ---------------------------------------------------------------------------
// Type hints, aggregates, results

function hint(type) {
  return (v) => ({ type, value: v });
}

/**
 * `typeHint.X(value)` → `{type: "X", value}` (recorded for UUID and
 * TIMESTAMP): the value is bound with the Data API type hint X. The docs'
 * `typeHint.DATETIME` is in neither the typings nor the Data API's hints.
 */
export const typeHint = {
  DATE: hint('DATE'),
  DECIMAL: hint('DECIMAL'),
  JSON: hint('JSON'),
  TIME: hint('TIME'),
  TIMESTAMP: hint('TIMESTAMP'),
  UUID: hint('UUID'),
};

function aggregatePieces(aggregate) {
  const rec = record(aggregate);
  const column = rec.column === '*' ? ['*'] : [name(rec.column)];
  return [rec.fn + (rec.distinct ? '(DISTINCT ' : '(')].concat(column, [')']);
}

function aggregate(op) {
  const [fn, distinct] = AGGREGATES[op];
  return (column) => {
    if (typeof column !== 'string' || column === '') {
      fail('agg.' + op, 'expects a column name, got ' + describe(column));
    }
    return mark('agg', { fn, distinct, column });
  };
}

/**
 * `agg.max(column)`, …: an aggregate for `columns` (`COUNT(DISTINCT "id")`).
 * AppSync is silent on how these render; this is standard SQL.
 */
export const agg = {
  max: aggregate('max'),
  maxDistinct: aggregate('maxDistinct'),
  min: aggregate('min'),
  minDistinct: aggregate('minDistinct'),
  count: aggregate('count'),
  countDistinct: aggregate('countDistinct'),
  avg: aggregate('avg'),
  avgDistinct: aggregate('avgDistinct'),
  sum: aggregate('sum'),
  sumDistinct: aggregate('sumDistinct'),
};

/** The Data API result as one list of rows per statement (`util.rds.toJsonObject`). */
export function toJsonObject(result) {
  return util.rds.toJsonObject(result);
}
