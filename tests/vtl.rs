//! Data-driven VTL tests. Each `tests/vtl/inputs/<name>.vtl` is a JSON context,
//! a `---` line, then the template; the snapshot is the rendered text, or
//! `!!!ERROR!!!` and the error (`err_` fixtures), or `!!!RETURN!!!` and the
//! `#return` value. `json_` fixtures are also read as AppSync reads a
//! template's output (`parse_json_output`), and the parsed JSON or the
//! `!!!JSON ERROR!!!` follows the text.

mod common;

use std::fmt::Write as _;
use std::process::Command;

use appsync_local::vtl::{Context, Host, Rendered, Template, parse_json_output};
use proptest::prelude::*;

/// A fixed clock so `$util.time` output is reproducible.
const NOW: i64 = 1_700_000_000_000;

/// A fixed clock and a seeded generator: every render is reproducible.
fn host() -> Host {
    Host::seeded(NOW, 7)
}

fn render_fixture(name: &str, contents: &str) -> String {
    let (ctx_json, template) = contents
        .split_once("\n---\n")
        .expect("fixture needs a context, a `---` line and a template");
    let mut ctx: Context = serde_json::from_str(ctx_json).expect("fixture context is JSON");
    let template = match Template::parse(name, template) {
        Ok(t) => t,
        Err(err) => return format!("!!!ERROR!!!\n\n{err:#}\n"),
    };
    let out = template.render_with(&mut ctx, &mut host());
    let mut s = match out.result {
        Ok(Rendered::Text(text)) if name.starts_with("json_") => {
            match parse_json_output(name, &text) {
                Ok(json) => format!(
                    "{text}\n!!!JSON!!!\n{}",
                    serde_json::to_string_pretty(&json).unwrap_or_default()
                ),
                Err(err) => format!(
                    "{text}\n!!!JSON ERROR!!!\nerrorType: {:?}\nmessage: {}",
                    err.error_type, err.message
                ),
            }
        }
        Ok(Rendered::Text(text)) => text,
        Ok(Rendered::Return(value)) => format!("!!!RETURN!!!\n{value}"),
        Err(err) => format!(
            "!!!ERROR!!!\n\nerrorType: {:?}\nmessage: {}\n",
            err.error_type, err.message
        ),
    };
    if !ctx.stash.is_empty() {
        let _ = write!(
            s,
            "\n!!!STASH!!!\n{}",
            serde_json::to_string(&ctx.stash).unwrap_or_default()
        );
    }
    s
}

#[test]
fn fixtures() {
    insta::glob!("vtl/inputs/*.vtl", |path| {
        let contents = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let rendered = render_fixture(&name, &contents);
        insta::with_settings!({
            snapshot_path => "vtl/snapshots",
            prepend_module_to_snapshot => false,
            description => contents.as_str(),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(rendered);
        });
    });
}

#[test]
fn parse_error_names_file_line_and_column() {
    let err = Template::parse(
        "Query.getPost.req.vtl",
        "{\n  \"id\": $ctx.args.id,\n  #if($x\n}",
    )
    .unwrap_err();
    assert_eq!((err.line, err.column), (4, 1));
    assert_eq!(err.name, "Query.getPost.req.vtl");
    insta::assert_snapshot!(format!("{err:#}"), @r"
    Query.getPost.req.vtl:4:1: expected `)` to close #if, found `}`
      |
    4 | }
      | ^ expected `)` to close #if, found `}`
    ");
}

#[test]
fn templates_over_64_kb_are_rejected_at_parse() {
    let big = "x".repeat(64 * 1024 + 1);
    let err = Template::parse("big.vtl", &big).unwrap_err();
    assert_eq!(
        err.to_string(),
        "big.vtl:1:1: the template is 65537 bytes; AppSync allows at most 65536 bytes (64 KB)"
    );
    assert!(Template::parse("ok.vtl", &"x".repeat(64 * 1024)).is_ok());
}

#[test]
fn parse_errors_point_at_unicode_columns() {
    let err = Template::parse("u.vtl", "é😀 #set($x = )").unwrap_err();
    assert_eq!((err.line, err.column), (1, 14));
    assert_eq!(
        format!("{err:#}"),
        "u.vtl:1:14: expected an expression, found `)`\n  |\n1 | é😀 #set($x = )\n  |              ^ expected an expression, found `)`"
    );
}

#[test]
fn templates_are_reusable_and_stash_is_shared() {
    let first =
        Template::parse("a.vtl", r#"#set($ctx.stash.n = 1)#set($ctx.stash.m = "x")"#).unwrap();
    let second = Template::parse("b.vtl", "$ctx.stash.n $ctx.stash.m").unwrap();
    let mut ctx = Context::default();
    first.render_with(&mut ctx, &mut host());
    let out = second.render_with(&mut ctx, &mut host());
    assert_eq!(out.result, Ok(Rendered::Text("1 x".into())));
    let again = second.render_with(&mut ctx, &mut host());
    assert_eq!(again.result, Ok(Rendered::Text("1 x".into())));
}

#[test]
fn json_output_errors_match_appsync() {
    let dup = parse_json_output("t.vtl", r#"{"aField": 1, "aField": 2}"#).unwrap_err();
    assert_eq!(
        dup.message,
        "Duplicate field 'aField' detected on Object. Duplicate JSON keys are not allowed."
    );
    assert_eq!(dup.error_type.as_deref(), Some("MappingTemplate"));
    let trailing = parse_json_output("t.vtl", "{} {}").unwrap_err();
    assert_eq!(
        trailing.message,
        "Trailing characters at the end of the JSON string are not allowed."
    );
    let bad = parse_json_output("Query.getPost.req.vtl", "{\"a\": tru}").unwrap_err();
    assert!(
        bad.message
            .contains("Query.getPost.req.vtl; line: 1, column: 7"),
        "{}",
        bad.message
    );
}

fn evaluate(template: &str, context: &str) -> (serde_json::Value, bool) {
    evaluate_with(template, context, &[])
}

fn evaluate_with(template: &str, context: &str, extra: &[&str]) -> (serde_json::Value, bool) {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("Query.getPost.req.vtl");
    let ctx = dir.path().join("context.json");
    std::fs::write(&tpl, template).unwrap();
    std::fs::write(&ctx, context).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .arg("evaluate")
        .arg("--template")
        .arg(&tpl)
        .arg("--context")
        .arg(&ctx)
        .args(extra)
        .output()
        .unwrap();
    common::json_output(&out)
}

#[test]
fn evaluate_command_prints_the_aws_response_shape() {
    let (json, ok) = evaluate(
        r#"{"id": "$ctx.args.id", "n": #foreach($i in [1..3])$i#end}"#,
        r#"{"arguments": {"id": "p1"}}"#,
    );
    assert!(ok);
    assert_eq!(
        json,
        serde_json::json!({"evaluationResult": "{\"id\": \"p1\", \"n\": 123}", "logs": []})
    );
}

#[test]
fn evaluate_command_takes_a_fixed_clock_and_seed() {
    let template = "$util.time.nowEpochMilliSeconds() $util.autoId() $util.autoUlid()";
    let run = |seed: &str| {
        let (json, ok) = evaluate_with(template, "{}", &["--now", "1700000000000", "--seed", seed]);
        assert!(ok, "{json}");
        json["evaluationResult"]
            .as_str()
            .expect("a result")
            .to_owned()
    };
    let first = run("1");
    assert!(first.starts_with("1700000000000 "), "{first}");
    assert_eq!(first, run("1"));
    assert_ne!(first, run("2"));
}

#[test]
fn evaluate_command_reports_errors_with_failure_status() {
    let (json, ok) = evaluate(
        "$ctx.args.id.substring(5)",
        r#"{"arguments": {"id": "abc"}}"#,
    );
    assert!(!ok);
    assert_eq!(json["error"]["errorType"], "MappingTemplate");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("StringIndexOutOfBoundsException: begin 5, end 3, length 3"),
        "{json}"
    );
    assert!(json.get("evaluationResult").is_none());

    let (json, ok) = evaluate("#if($x)\nno end", "{}");
    assert!(!ok);
    let message = json["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Query.getPost.req.vtl:1:1: unclosed #if"),
        "{message}"
    );
    assert!(message.contains("^^^"), "{message}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary input never panics the parser or the renderer.
    #[test]
    fn random_templates_never_panic(src in "[-$#!{}()\\[\\]a-z0-9 .,=\"'*\\\\\n:+<>&|%/é😀\t\r]{0,80}") {
        if let Ok(t) = Template::parse("fuzz.vtl", &src) {
            let mut ctx = Context::default();
            let _ = t.render_with(&mut ctx, &mut host());
        }
    }

    /// AppSync's JSON reader never panics on rendered output.
    #[test]
    fn random_json_never_panics(src in "[-{}\\[\\]\"\\\\:,0-9.eE a-z\\nu😀é]{0,60}") {
        let _ = parse_json_output("fuzz.vtl", &src);
    }

    /// Templates built from the language's own pieces never panic either.
    #[test]
    fn random_directive_soup_never_panics(parts in proptest::collection::vec(prop::sample::select(vec![
        "#set($a = ", "$a", "$!a", "${a}", "#if(", "#elseif(", "#else", "#end", ")", "#foreach($i in ",
        "[1..3]", "$i", "#break", "#stop", "#return(", "#define($d)", "$d", "#macro(m $x)", "#m(",
        "{\"k\": ", "}", "[", "]", ",", "\"$a\"", "'x'", "1", "2.5", "+", "-", "*", "/", "%", "==",
        "&&", "!", "$a.put(\"k\", $a)", "$a.add($a)", "$a.k", "$a[0]", "\n", " ", "##c\n", "#*", "*#",
        "\\$a", "\\#if", "$foreach.count", "$velocityCount",
    ]), 0..40)) {
        let src: String = parts.concat();
        if let Ok(t) = Template::parse("soup.vtl", &src) {
            let mut ctx = Context::default();
            let _ = t.render_with(&mut ctx, &mut host());
        }
    }
}

/// The serverless-airline `Mutation.processBooking` request template renders
/// the Step Functions call with an escaped JSON input. Its ids are random, so
/// this checks their shape and their consistency rather than a snapshot.
#[test]
fn airline_process_booking_template() {
    let source = r#"$util.qr($ctx.stash.put("outboundFlightId", $ctx.args.input.bookingOutboundFlightId))
$util.qr($ctx.stash.put("paymentToken", $ctx.args.input.paymentToken))
$util.qr($ctx.stash.put("customer", $ctx.identity.sub))
$util.qr($ctx.stash.put("executionId", $util.autoId()))
$util.qr($ctx.stash.put("createdAt", $util.time.nowISO8601()))
#set( $payload = {
    "outboundFlightId": $ctx.stash.outboundFlightId,
    "customerId": $context.identity.sub,
    "chargeId": $ctx.stash.paymentToken,
    "bookingTable": "Booking-dev",
    "flightTable": "Flight-dev",
    "name": $ctx.stash.executionId,
    "createdAt": $ctx.stash.createdAt
})
{
    "version": "2018-05-29",
    "method": "POST",
    "resourcePath": "/",
    "params": {
        "headers": {
            "content-type": "application/x-amz-json-1.0",
            "x-amz-target":"AWSStepFunctions.StartExecution"
        },
        "body": {
            "stateMachineArn": "arn:aws:states:eu-west-1:123456789012:stateMachine:ProcessBooking",
            "input": "$util.escapeJavaScript($util.toJson($payload))",
            "name": $util.toJson($ctx.stash.executionId)
        }
    }
}
"#;
    let template = Template::parse("Mutation.processBooking.req.vtl", source).expect("parses");
    let mut ctx: Context = serde_json::from_value(serde_json::json!({
        "arguments": {"input": {"bookingOutboundFlightId": "FL00001", "paymentToken": "tok_\"1\""}},
        "identity": {"sub": "cust-1"}
    }))
    .expect("context");
    let out = template.render_with(&mut ctx, &mut host());
    let Ok(Rendered::Text(text)) = out.result else {
        panic!("rendered {:?}", out.result);
    };
    let doc = parse_json_output("Mutation.processBooking.req.vtl", &text).expect("JSON");
    let id = ctx.stash["executionId"]
        .as_str()
        .expect("executionId")
        .to_owned();
    let uuid = regex_lite_uuid(&id);
    assert!(uuid, "autoId gives a v4 UUID, got {id}");
    assert_eq!(doc["params"]["body"]["name"], serde_json::json!(id));
    let input: serde_json::Value = serde_json::from_str(
        doc["params"]["body"]["input"]
            .as_str()
            .expect("input string"),
    )
    .expect("input is escaped JSON");
    assert_eq!(
        input,
        serde_json::json!({
            "outboundFlightId": "FL00001", "customerId": "cust-1", "chargeId": "tok_\"1\"",
            "bookingTable": "Booking-dev", "flightTable": "Flight-dev", "name": id,
            "createdAt": "2023-11-14T22:13:20.000Z"
        })
    );
    assert_eq!(ctx.stash["customer"], serde_json::json!("cust-1"));
}

fn regex_lite_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts[2].starts_with('4')
        && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

/// The host is the only source of time and randomness: two renders with
/// equally seeded hosts agree on every id and random number, and a
/// differently seeded host gives other ids at the same instant.
#[test]
fn renders_with_equal_hosts_are_identical() {
    let source = r#"$util.autoId() $util.autoUlid() $util.autoKsuid() $util.math.randomDouble() $util.math.randomWithinRange(1, 1000000) $util.time.nowISO8601()"#;
    let template = Template::parse("ids.vtl", source).expect("parses");
    let render = |host: &mut Host| {
        let out = template.render_with(&mut Context::default(), host);
        match out.result {
            Ok(Rendered::Text(text)) => text,
            other => panic!("rendered {other:?}"),
        }
    };
    let first = render(&mut Host::seeded(NOW, 42));
    assert_eq!(first, render(&mut Host::seeded(NOW, 42)));
    let other = render(&mut Host::seeded(NOW, 43));
    assert_ne!(first, other);
    let words: Vec<&str> = first.split(' ').collect();
    assert_eq!(words.len(), 6, "{first}");
    assert!(regex_lite_uuid(words[0]), "{first}");
    assert_eq!(words[1].len(), 26, "{first}");
    assert_eq!(words[2].len(), 27, "{first}");
    assert_eq!(words[5], "2023-11-14T22:13:20.000Z");
    // Both ids carry the host's instant, so they match across seeds.
    assert_eq!(&words[1][..10], &other.split(' ').nth(1).unwrap()[..10]);

    // One host serves many renders, each with fresh random values.
    let mut host = Host::seeded(NOW, 42);
    assert_ne!(render(&mut host), render(&mut host));
}
