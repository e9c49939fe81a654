//! `$extensions`: requests the runtime carries out after the render. The
//! runtime, not this module, checks where each one is allowed (mutations,
//! subscription response templates, ...).

use indexmap::IndexMap;

use super::json::parse_json;
use super::{Call, CallError, void};
use crate::vtl::runtime::{Effect, RenderState};
use crate::vtl::value::Value;

pub(super) fn call(host: &mut RenderState<'_>, c: &Call) -> Result<Value, CallError> {
    let effect = match c.method {
        "evictFromApiCache" => {
            let sig = "evictFromApiCache(String, String, Map)";
            c.arity(3, 3, sig)?;
            let type_name = c.str(0, sig)?.to_owned();
            let field_name = c.str(1, sig)?.to_owned();
            let keys: IndexMap<String, serde_json::Value> = c
                .map(2, sig)?
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect();
            Effect::EvictFromApiCache {
                type_name,
                field_name,
                keys,
            }
        }
        "setSubscriptionFilter" | "setSubscriptionInvalidationFilter" => {
            let sig = "(Map)";
            c.arity(1, 1, sig)?;
            let filter = json_map_arg(c, sig)?;
            if !filter
                .get("filterGroup")
                .is_some_and(serde_json::Value::is_array)
            {
                return Err(CallError::Invalid(format!(
                    "{} expects a filter with a \"filterGroup\" list",
                    c.method
                )));
            }
            if c.method == "setSubscriptionFilter" {
                Effect::SetSubscriptionFilter { filter }
            } else {
                Effect::SetSubscriptionInvalidationFilter { filter }
            }
        }
        "invalidateSubscriptions" => {
            let sig = "invalidateSubscriptions(Map)";
            c.arity(1, 1, sig)?;
            let invalidation = json_map_arg(c, sig)?;
            if !invalidation
                .get("subscriptionField")
                .is_some_and(serde_json::Value::is_string)
            {
                return Err(CallError::Invalid(
                    "invalidateSubscriptions expects a \"subscriptionField\" name".into(),
                ));
            }
            Effect::InvalidateSubscriptions { invalidation }
        }
        _ => return Err(CallError::NoSuchMethod),
    };
    host.effects.push(effect);
    void()
}

/// A map argument as JSON. A JSON string is read too, since templates often
/// hold filters as `$util.toJson(...)` text.
fn json_map_arg(c: &Call, sig: &str) -> Result<serde_json::Value, CallError> {
    let value = match c.arg(0) {
        Value::Str(s) => parse_json(&s).map_err(|_| c.invalid(sig))?,
        other => other,
    };
    match value {
        Value::Map(_) => Ok(value.to_json()),
        _ => Err(c.invalid(sig)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{NOW, run, show};
    use crate::vtl::runtime::{Host, RenderState};

    #[test]
    fn effects_are_recorded_in_order() {
        let mut host = Host::seeded(NOW, 0);
        let mut host = RenderState::new(&mut host);
        let calls = [
            (
                "evictFromApiCache",
                r#"["Query", "getTask", {"context.arguments.id": "t1", "context.identity.sub": 7}]"#,
            ),
            (
                "setSubscriptionFilter",
                r#"[{"filterGroup":[{"filters":[{"fieldName":"a","operator":"eq","value":1}]}]}]"#,
            ),
            (
                "setSubscriptionInvalidationFilter",
                r#"["{\"filterGroup\":[]}"]"#,
            ),
            (
                "invalidateSubscriptions",
                r#"[{"subscriptionField":"onGroupMessageCreated","payload":{"groupId":"g"}}]"#,
            ),
        ];
        for (method, args) in calls {
            assert_eq!(
                show(&run(&mut host, "extensions", method, args)),
                r#""""#,
                "{method}"
            );
        }
        let recorded: Vec<String> = host
            .effects
            .iter()
            .map(|e| serde_json::to_string(e).expect("serialize"))
            .collect();
        insta::assert_snapshot!(recorded.join("\n"));
    }

    #[test]
    fn bad_arguments() {
        let mut host = Host::seeded(NOW, 0);
        let mut host = RenderState::new(&mut host);
        let cases = [
            (
                "evictFromApiCache",
                r#"["Query", "getTask"]"#,
                "!Invalid: Invalid arguments for $extensions.evictFromApiCache(String, String): expected evictFromApiCache(String, String, Map)",
            ),
            (
                "setSubscriptionFilter",
                r#"[{"filters":[]}]"#,
                "!Invalid: setSubscriptionFilter expects a filter with a \"filterGroup\" list",
            ),
            (
                "setSubscriptionFilter",
                r#"["not json"]"#,
                "!Invalid: Invalid arguments for $extensions.setSubscriptionFilter(String): expected (Map)",
            ),
            (
                "invalidateSubscriptions",
                r#"[{"payload":{}}]"#,
                "!Invalid: invalidateSubscriptions expects a \"subscriptionField\" name",
            ),
            ("flushCache", "[]", "!NoSuchMethod"),
        ];
        for (method, args, want) in cases {
            assert_eq!(
                show(&run(&mut host, "extensions", method, args)),
                want,
                "{method}"
            );
        }
        assert!(host.effects.is_empty());
    }
}
