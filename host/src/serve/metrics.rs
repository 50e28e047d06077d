//! Prometheus metrics: requests and latency by route, findings by category, traps, CPU-budget
//! exhaustions, timeouts, rejected requests and reloads.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteStatus {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Route {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CategoryLabel {
    pub category: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub outcome: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RouteStatus, Counter>,
    pub latency: Family<Route, Histogram, fn() -> Histogram>,
    pub findings: Family<CategoryLabel, Counter>,
    pub traps: Counter,
    pub fuel_exhausted: Counter,
    pub timeouts: Counter,
    pub rejected: Counter,
    pub reloads: Family<Outcome, Counter>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("callguard");
        let requests = Family::<RouteStatus, Counter>::default();
        let latency =
            Family::<Route, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let findings = Family::<CategoryLabel, Counter>::default();
        let traps = Counter::default();
        let fuel_exhausted = Counter::default();
        let timeouts = Counter::default();
        let rejected = Counter::default();
        let reloads = Family::<Outcome, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Request latency by route",
            latency.clone(),
        );
        registry.register(
            "findings",
            "Findings reported, by category",
            findings.clone(),
        );
        registry.register(
            "module_traps",
            "Calls that trapped in the policy module",
            traps.clone(),
        );
        registry.register(
            "module_fuel_exhausted",
            "Calls that ran past their CPU budget",
            fuel_exhausted.clone(),
        );
        registry.register(
            "request_timeouts",
            "Requests that ran past the per-request timeout",
            timeouts.clone(),
        );
        registry.register(
            "requests_rejected_overload",
            "Requests refused because every worker was busy",
            rejected.clone(),
        );
        registry.register(
            "reloads",
            "Module and pack reloads by outcome",
            reloads.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            findings,
            traps,
            fuel_exhausted,
            timeouts,
            rejected,
            reloads,
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
