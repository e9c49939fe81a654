//! Parse once, render many: the cost of one resolver template per request.
//!
//! Run with `cargo bench --bench vtl -- --warm-up-time 1 --measurement-time 3`.

use appsync_local::vtl::{Context, Host, Template};
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

/// Amplify's generated GetItem request template.
const GET_ITEM_UTIL: &str = r#"{"version":"2018-05-29","operation":"GetItem","key":{"id": $util.dynamodb.toDynamoDBJson($ctx.args.id)}}"#;

/// The same request using only the language.
const GET_ITEM_LANGUAGE: &str = r#"{
  "version": "2018-05-29",
  "operation": "GetItem",
  "key": {
    "id": {"S": "$ctx.args.id"}
  }
}"#;

/// An Amplify-style UpdateItem built in `#foreach` loops, with map literals,
/// string interpolation and conditionals.
const UPDATE_ITEM: &str = r##"#set($input = $ctx.args.input)
#set($expNames = {})
#set($expValues = {})
#set($expSet = {})
#set($expRemove = [])
#foreach($entry in $input.entrySet())
  #if($entry.key != "id")
    #if($entry.value == $null)
      #set($discard = $expRemove.add("#$entry.key"))
    #else
      #set($discard = $expSet.put("#$entry.key", ":$entry.key"))
      #set($discard = $expValues.put(":$entry.key", {"S": "$entry.value"}))
    #end
    #set($discard = $expNames.put("#$entry.key", "$entry.key"))
  #end
#end
#set($expression = "")
#if(!$expSet.isEmpty())
  #set($expression = "SET")
  #foreach($entry in $expSet.entrySet())
    #set($expression = "$expression $entry.key = $entry.value")
    #if($foreach.hasNext)#set($expression = "${expression},")#end
  #end
#end
#if(!$expRemove.isEmpty())
  #set($expression = "$expression REMOVE")
  #foreach($entry in $expRemove)
    #set($expression = "$expression $entry")
    #if($foreach.hasNext)#set($expression = "${expression},")#end
  #end
#end
{
  "version": "2018-05-29",
  "operation": "UpdateItem",
  "key": {"id": {"S": "$input.id"}},
  "update": {
    "expression": "$expression",
    "expressionNames": {#foreach($n in $expNames.entrySet())"$n.key": "$n.value"#if($foreach.hasNext), #end#end},
    "expressionValues": {#foreach($v in $expValues.entrySet())"$v.key": {"S": "$v.value.S"}#if($foreach.hasNext), #end#end}
  },
  "condition": {"expression": "attribute_exists(#id)", "expressionNames": {"#id": "id"}}
}"##;

fn context(arguments: serde_json::Value) -> Context {
    Context {
        arguments,
        identity:
            json!({"sub": "user-1", "username": "alice", "claims": {"cognito:groups": ["Admin"]}})
                .into(),
        info: json!({"fieldName": "getPost", "parentTypeName": "Query", "variables": {}}),
        ..Context::default()
    }
}

fn bench(c: &mut Criterion) {
    let get_ctx = context(json!({"id": "post-1"}));
    let update_ctx = context(json!({"input": {
        "id": "post-1", "title": "Hello", "body": "World", "status": "PUBLISHED",
        "category": "news", "author": "alice", "tags": "a,b", "views": "10",
        "rating": "5", "summary": "short", "archived": null
    }}));
    for (name, src, ctx) in [
        ("get_item_util", GET_ITEM_UTIL, &get_ctx),
        ("get_item_language", GET_ITEM_LANGUAGE, &get_ctx),
        ("update_item_foreach", UPDATE_ITEM, &update_ctx),
    ] {
        let template = Template::parse(name, src).expect("benchmark template parses");
        let mut host = Host::seeded(0, 0);
        c.bench_function(&format!("render/{name}"), |b| {
            b.iter(|| {
                let mut ctx = ctx.clone();
                black_box(template.render_with(&mut ctx, &mut host))
            })
        });
    }
    c.bench_function("parse/update_item_foreach", |b| {
        b.iter(|| black_box(Template::parse("update", black_box(UPDATE_ITEM))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
