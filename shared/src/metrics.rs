//! CloudWatch embedded metrics: one JSON line per batch on stdout, which Lambda's log stream hands
//! to CloudWatch as metrics (no API call, no extra dependency). The template's alarms and
//! dashboard read them from the `UnikornCompute` namespace.

use serde_json::{json, Map, Value};

pub const NAMESPACE: &str = "UnikornCompute";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Seconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Seconds => "Seconds",
        }
    }
}

/// One metric value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metric<'a> {
    pub name: &'a str,
    pub value: f64,
    pub unit: Unit,
}

impl<'a> Metric<'a> {
    pub fn count(name: &'a str, value: usize) -> Self {
        Metric { name, value: value as f64, unit: Unit::Count }
    }

    pub fn seconds(name: &'a str, value: f64) -> Self {
        Metric { name, value, unit: Unit::Seconds }
    }
}

/// The embedded-metric document for `metrics` under one set of `dimensions`, at `timestamp_ms`.
pub fn document(dimensions: &[(&str, &str)], metrics: &[Metric<'_>], timestamp_ms: i64) -> Value {
    let mut root = Map::new();
    for (name, value) in dimensions {
        root.insert((*name).to_owned(), json!(value));
    }
    for m in metrics {
        root.insert(m.name.to_owned(), json!(m.value));
    }
    let names: Vec<&str> = dimensions.iter().map(|(n, _)| *n).collect();
    let definitions: Vec<Value> = metrics.iter().map(|m| json!({"Name": m.name, "Unit": m.unit.as_str()})).collect();
    root.insert(
        "_aws".into(),
        json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": [
            {"Namespace": NAMESPACE, "Dimensions": [names], "Metrics": definitions}]}),
    );
    Value::Object(root)
}

/// Writes the document as one line on stdout (the logs are on stderr), in Lambda only: the local
/// API, the tests and the bench (whose report is its stdout) have no CloudWatch to read it.
pub fn emit(dimensions: &[(&str, &str)], metrics: &[Metric<'_>]) {
    static IN_LAMBDA: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*IN_LAMBDA.get_or_init(|| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()) {
        return;
    }
    let line = document(dimensions, metrics, chrono::Utc::now().timestamp_millis());
    println!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_cloudwatchs_embedded_metric_format() {
        let doc =
            document(&[("Function", "cleanup")], &[Metric::count("RecordsSynced", 3), Metric::seconds("Age", 1.5)], 7);
        assert_eq!(doc["Function"], "cleanup");
        assert_eq!((doc["RecordsSynced"].clone(), doc["Age"].clone()), (json!(3.0), json!(1.5)));
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(doc["_aws"]["Timestamp"], 7);
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["Function"]]));
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "RecordsSynced", "Unit": "Count"}, {"Name": "Age", "Unit": "Seconds"}])
        );
    }
}
