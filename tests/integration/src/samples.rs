//! Comparing JSON with the official OpenStack samples.

use serde_json::Value;

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every field the client sent exists in the official sample with the same JSON type, unless it
/// is a listed deviation (documented in the API reference but absent from the samples).
pub fn matches_sample(sent: &Value, official: &Value, path: &str, deviations: &[&str], problems: &mut Vec<String>) {
    // Metadata maps are free-form: their keys are the caller's, only the value type is fixed.
    if path.ends_with("/metadata") {
        let all_strings = |v: &Value| v.as_object().is_some_and(|m| m.values().all(Value::is_string));
        if !(all_strings(sent) && all_strings(official)) {
            problems.push(format!("{path}: metadata must map strings to strings"));
        }
        return;
    }
    let (Value::Object(sent), Value::Object(official)) = (sent, official) else {
        if kind(sent) != kind(official) && !deviations.contains(&path) {
            problems.push(format!("{path}: client sends {} but the sample has {}", kind(sent), kind(official)));
        }
        return;
    };
    for (key, value) in sent {
        let child = format!("{path}/{key}");
        match official.get(key) {
            Some(expected) => matches_sample(value, expected, &child, deviations, problems),
            None if deviations.contains(&child.as_str()) => {}
            None => problems.push(format!("{child}: sent by the client but absent from the official sample")),
        }
    }
}

pub fn assert_matches_sample(sent: &Value, official: &Value, deviations: &[&str], label: &str) {
    let mut problems = Vec::new();
    matches_sample(sent, official, "", deviations, &mut problems);
    assert!(problems.is_empty(), "{label}: {problems:#?}\nsent: {sent}");
}

/// Every key of `answer` is in `official` with the same type (a null on either side matches any
/// type: Neutron answers null for unset fields), and every `read` key is present.
pub fn assert_like_sample(answer: &Value, official: &Value, read: &[&str], label: &str) {
    let (Some(answer), Some(official)) = (answer.as_object(), official.as_object()) else {
        panic!("{label}: not objects: {answer} / {official}")
    };
    let mut problems = Vec::new();
    for (key, value) in answer {
        match official.get(key) {
            None => problems.push(format!("{key}: answered but absent from the official sample")),
            Some(expected) if !value.is_null() && !expected.is_null() && kind(value) != kind(expected) => {
                problems.push(format!("{key}: {} where the sample has {}", kind(value), kind(expected)))
            }
            Some(_) => {}
        }
    }
    problems.extend(read.iter().filter(|k| !answer.contains_key(**k)).map(|k| format!("{k}: missing")));
    assert!(problems.is_empty(), "{label}: {problems:#?}");
}
