//! Resume refuses settings that differ from the checkpoint's, naming each one.

use serde_json::Value;

/// Trainer fields a resume may change: how long to train, where and how often to write,
/// what to show and check. Every other field (and every field of `run_settings`) must
/// match the checkpoint.
const MAY_CHANGE: &[&str] = &[
    "epochs",
    "checkpoint_every",
    "keep_checkpoints",
    "keep_best",
    "check_gradients",
    "out_dir",
    "progress",
    "sync_every",
];

/// `name: X in the checkpoint, Y now` for every setting that differs between the stored
/// configuration and the current one (both serialised [`super::TrainerConfig`]s), nested
/// fields named by dotted paths. Fields the checkpoint does not record (a file written
/// before they existed) are not compared.
pub(super) fn setting_differences(stored: &Value, now: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let (Value::Object(stored), Value::Object(now)) = (stored, now) {
        for (key, value) in now {
            if MAY_CHANGE.contains(&key.as_str()) {
                continue;
            }
            if let Some(old) = stored.get(key) {
                compare(key, old, value, &mut out);
            }
        }
    }
    out
}

fn compare(path: &str, stored: &Value, now: &Value, out: &mut Vec<String>) {
    match (stored, now) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let missing = Value::Null;
                let (x, y) = (
                    a.get(key).unwrap_or(&missing),
                    b.get(key).unwrap_or(&missing),
                );
                compare(&format!("{path}.{key}"), x, y, out);
            }
        }
        _ if same(stored, now) => {}
        _ => out.push(format!("{path}: {stored} in the checkpoint, {now} now")),
    }
}

/// Equality that treats numbers by value (`2` and `2.0` are one setting).
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_each_differing_field_and_skips_those_a_resume_may_change() {
        let stored = json!({"epochs": 2, "learning_rate": 0.001, "seed": 1,
            "run_settings": {"temperature": 0.2, "augment": {"crop": [0.3, 1.0]}}});
        let now = json!({"epochs": 9, "learning_rate": 0.002, "seed": 1, "new_field": 3,
            "run_settings": {"temperature": 0.2, "augment": {"crop": [0.5, 1.0]}}});
        let d = setting_differences(&stored, &now);
        assert_eq!(
            d,
            vec![
                "learning_rate: 0.001 in the checkpoint, 0.002 now".to_string(),
                "run_settings.augment.crop: [0.3,1.0] in the checkpoint, [0.5,1.0] now".into(),
            ]
        );
    }
}
