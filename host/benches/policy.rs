//! Per-request cost of the policy, side by side: the native core, the release module through
//! waPC (as Kubewarden runs it) and through the WIT world, against the `serde_json` floor;
//! and the trust-policy engine. Results and commands: `BENCHMARKS.md`.
//!
//! One bench target on purpose: every target is a separate link of wasmtime.
//!
//! Before the timings it prints the module size and the peak linear memory of one
//! evaluation of the largest Pod (`memory:` lines). The `worst` group answers the largest
//! request of each kind of `recorded::sized` (3 MiB) against Kubewarden's 2 s timeout.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use awi::{Objects, Policy, WapcPolicy};
use aws_workload_identity::admission::{Lookup, ObjectRef};
use aws_workload_identity::kubewarden::Validator;
use aws_workload_identity::trust::{self, Subject};
use criterion::{BenchmarkId, Criterion, Throughput};
use recorded::sized::{self, API_SERVER_BODY_LIMIT, Kind, SizedRequest};
use serde_json::{Value, json};

const ISSUER: &str = "https://oidc.cpln.example/abc123";
const PROVIDER: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.cpln.example/abc123";
const ROLE: &str = "arn:aws:iam::111122223333:role/payments-api";

/// The bundled example settings: region, session names, OIDC provider, template, one
/// role trust policy and an account allow-list; every Pod gets the trust check.
fn settings() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/settings.yaml");
    let text = std::fs::read_to_string(&path).expect("examples/settings.yaml");
    serde_yaml::from_str(&text).expect("settings YAML")
}

fn service_account(name: &str, role: Option<&str>) -> Value {
    let mut sa = json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": "payments", "uid": "5d1e1e64-8c2f-4c5e-9a51-0b3c2a1f9e77"},
    });
    if let Some(role) = role {
        sa["metadata"]["annotations"] = json!({"eks.amazonaws.com/role-arn": role});
    }
    sa
}

/// A container as controllers write them: image, ports, env, resources, probes, mounts.
fn container(i: usize) -> Value {
    json!({
        "name": format!("app-{i}"),
        "image": format!("ghcr.io/example/payments-api-{i}:1.4.2"),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080 + i, "name": "http", "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
            {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}
        ],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080 + i}, "periodSeconds": 10},
        "volumeMounts": [
            {"name": "kube-api-access-x7k2p", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}
        ],
        "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File"
    })
}

/// An AdmissionRequest for the CREATE of a Pod with `containers` containers running as
/// ServiceAccount `sa`, as a ReplicaSet controller sends it.
fn pod_request(containers: usize, sa: &str) -> Value {
    json!({
        "uid": "6f1c3c2e-3a4b-4b8e-9d2f-1a2b3c4d5e6f",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "requestResource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": "payments",
        "operation": "CREATE",
        "userInfo": {
            "username": "system:serviceaccount:kube-system:replicaset-controller",
            "uid": "8a7b6c5d-1e2f-3a4b-5c6d-7e8f9a0b1c2d",
            "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]
        },
        "object": {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": "api-7d9f8c6b5-",
                "namespace": "payments",
                "labels": {"app": "payments-api", "pod-template-hash": "7d9f8c6b5"},
                "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-03-02T14:05:00Z"},
                "ownerReferences": [{
                    "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7d9f8c6b5",
                    "uid": "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e", "controller": true, "blockOwnerDeletion": true
                }]
            },
            "spec": {
                "serviceAccountName": sa,
                "containers": (0..containers).map(container).collect::<Vec<_>>(),
                "volumes": [{"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}
                ]}}],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "schedulerName": "default-scheduler",
                "enableServiceLinks": true,
                "preemptionPolicy": "PreemptLowerPriority",
                "priority": 0,
                "tolerations": [
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
                ]
            }
        },
        "oldObject": null,
        "dryRun": false,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
    })
}

/// One Pod case, in the forms each path takes.
struct Case {
    label: String,
    /// The AdmissionRequest alone (the floor parses and writes this).
    request: Vec<u8>,
    /// Kubewarden's `validate` payload.
    payload: Vec<u8>,
    /// The AdmissionReview, for the WIT world.
    review: String,
    /// The Pod's ServiceAccount.
    service_account: Value,
}

fn cases(settings: &Value) -> Vec<Case> {
    let with_role = service_account("api", Some(ROLE));
    let mut cases: Vec<Case> = [1, 10, 100]
        .into_iter()
        .map(|n| case(format!("{n}"), pod_request(n, "api"), settings, &with_role))
        .collect();
    // The common case on a cluster: a Pod whose ServiceAccount has no role.
    cases.push(case(
        "unchanged".to_string(),
        pod_request(10, "default"),
        settings,
        &service_account("default", None),
    ));
    cases
}

fn case(label: String, request: Value, settings: &Value, service_account: &Value) -> Case {
    let review =
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request});
    Case {
        label,
        request: serde_json::to_vec(&request).expect("request"),
        payload: serde_json::to_vec(&json!({"settings": settings, "request": request}))
            .expect("payload"),
        review: review.to_string(),
        service_account: service_account.clone(),
    }
}

/// The ways a Pod case is answered (the routes compared side by side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `serde_json` parses the AdmissionRequest and writes it back.
    Floor,
    /// `Validator::validate` natively, the `Validator` kept across requests.
    Native,
    /// The same, and the decision's log record written as the JSON the SDK's drain sends.
    NativeLogged,
    /// The same with a new `Validator` per request (settings and trust policies parsed).
    NativeCold,
    /// The module through waPC, instance reused.
    Wapc,
    /// Another build of the module (`AWI_BENCH_BASELINE`, e.g. one that logs nothing)
    /// through waPC, instance reused.
    WapcBaseline,
    /// The component through WIT, instance reused: `needs`, then `review`.
    Wit,
}

impl Route {
    const ALL: [Route; 7] = [
        Route::Floor,
        Route::Native,
        Route::NativeLogged,
        Route::NativeCold,
        Route::Wapc,
        Route::WapcBaseline,
        Route::Wit,
    ];

    fn name(self) -> &'static str {
        match self {
            Route::Floor => "floor",
            Route::Native => "native",
            Route::NativeLogged => "native-logged",
            Route::NativeCold => "native-cold",
            Route::Wapc => "wapc",
            Route::WapcBaseline => "wapc-baseline",
            Route::Wit => "wit",
        }
    }
}

/// One Pod case with everything each route needs, so that the criterion benches, the
/// paired ratios and the instruction counts run the very same code. The module's instances
/// are made on first use: a native count under valgrind then never compiles the module.
struct Runner<'p> {
    case: Case,
    policy: &'p Policy,
    baseline: Option<&'p Policy>,
    settings_text: String,
    validator: Validator,
    wapc: Option<awi::WapcInstance>,
    wapc_baseline: Option<awi::WapcInstance>,
    wit: Option<awi::WitInstance>,
    context: [String; 1],
}

impl<'p> Runner<'p> {
    fn new(
        case: Case,
        policy: &'p Policy,
        baseline: Option<&'p Policy>,
        settings: &Value,
    ) -> Runner<'p> {
        let context = [case.service_account.to_string()];
        Runner {
            case,
            policy,
            baseline,
            settings_text: settings.to_string(),
            validator: Validator::new(),
            wapc: None,
            wapc_baseline: None,
            wit: None,
            context,
        }
    }

    /// Answers the case once along `route`; returns the answer's length.
    fn run(&mut self, route: Route) -> usize {
        let case = &self.case;
        let sa = |_: &ObjectRef| Lookup::Found(case.service_account.clone());
        match route {
            Route::Floor => {
                let value: Value = serde_json::from_slice(black_box(&case.request)).unwrap();
                serde_json::to_vec(&value).unwrap().len()
            }
            Route::Native => {
                let response = self.validator.validate(black_box(&case.payload), sa);
                serde_json::to_vec(&response).unwrap().len()
            }
            Route::NativeLogged => {
                let (response, record) =
                    self.validator.validate_logged(black_box(&case.payload), sa);
                let record = record.map(|r| serde_json::to_vec(&r.to_json()).unwrap());
                serde_json::to_vec(&response).unwrap().len() + record.map_or(0, |r| r.len())
            }
            Route::NativeCold => {
                let response = Validator::new().validate(black_box(&case.payload), sa);
                serde_json::to_vec(&response).unwrap().len()
            }
            Route::Wapc | Route::WapcBaseline => {
                let (slot, policy) = match route {
                    Route::Wapc => (&mut self.wapc, self.policy),
                    _ => (
                        &mut self.wapc_baseline,
                        self.baseline.expect("AWI_BENCH_BASELINE names no module"),
                    ),
                };
                let instance = slot.get_or_insert_with(|| {
                    let cluster = Arc::new(Objects::new(vec![case.service_account.clone()]));
                    let instance = policy.wapc_instance(cluster).expect("waPC instance");
                    let answer = instance.call("validate", &case.payload).expect("validate");
                    assert!(answer.starts_with(br#"{"accepted":true"#), "{}", case.label);
                    instance
                });
                instance
                    .call("validate", black_box(&case.payload))
                    .unwrap()
                    .len()
            }
            Route::Wit => {
                let wit = self
                    .wit
                    .get_or_insert_with(|| self.policy.wit_instance().expect("WIT instance"));
                // What a WIT host does per request: ask, then review with the objects.
                let needs = wit
                    .needs(&self.settings_text, black_box(&case.review))
                    .unwrap();
                let answer = wit.review_text(
                    &self.settings_text,
                    &case.review,
                    &self.context[..needs.len()],
                );
                answer.unwrap().len()
            }
        }
    }
}

fn runners<'p>(
    policy: &'p Policy,
    baseline: Option<&'p Policy>,
    settings: &Value,
) -> Vec<Runner<'p>> {
    cases(settings)
        .into_iter()
        .map(|case| Runner::new(case, policy, baseline, settings))
        .collect()
}

/// The routes this run measures: `wapc-baseline` only with a baseline module.
fn routes(baseline: bool) -> Vec<Route> {
    Route::ALL
        .into_iter()
        .filter(|&r| baseline || r != Route::WapcBaseline)
        .collect()
}

fn pod_mutation(c: &mut Criterion, runners: &mut [Runner<'_>]) {
    let mut group = c.benchmark_group("pod");
    for runner in runners {
        group.throughput(Throughput::Bytes(runner.case.request.len() as u64));
        let label = runner.case.label.clone();
        for path in routes(runner.baseline.is_some()) {
            group.bench_function(BenchmarkId::new(path.name(), &label), |b| {
                b.iter(|| runner.run(path))
            });
        }
    }
    group.finish();
}

/// The budget ratios measured in pairs: criterion times one benchmark after the other, and
/// on a shared machine the speed drifts between them by more than the budgets' margins.
/// Here every round times a block of each path of each case back to back (order rotated
/// per round), so a ratio compares blocks run moments apart; the median over the rounds is
/// printed with its spread (`ratio:` lines).
fn paired_ratios(runners: &mut [Runner<'_>]) {
    const ROUNDS: usize = 31;
    const BLOCK: Duration = Duration::from_millis(15);
    let baseline = runners.iter().any(|r| r.baseline.is_some());
    let routes: Vec<Route> = routes(baseline)
        .into_iter()
        .filter(|&r| r != Route::NativeCold)
        .collect();
    // Iterations per block, so that each block lasts about BLOCK.
    let sizes: Vec<Vec<u32>> = runners
        .iter_mut()
        .map(|runner| {
            routes
                .iter()
                .map(|&route| {
                    runner.run(route); // first use: instances made, caches filled
                    let start = Instant::now();
                    runner.run(route);
                    let once = start.elapsed().max(Duration::from_micros(1));
                    (BLOCK.as_nanos() / once.as_nanos()).clamp(1, 100_000) as u32
                })
                .collect()
        })
        .collect();
    // seconds per request, [round][case][path]
    let mut times = vec![vec![vec![0.0; routes.len()]; runners.len()]; ROUNDS];
    for (round, by_case) in times.iter_mut().enumerate() {
        for offset in 0..runners.len() * routes.len() {
            let slot = (offset + round) % (runners.len() * routes.len());
            let (c, p) = (slot / routes.len(), slot % routes.len());
            let n = sizes[c][p];
            let start = Instant::now();
            for _ in 0..n {
                black_box(runners[c].run(routes[p]));
            }
            by_case[c][p] = start.elapsed().as_secs_f64() / f64::from(n);
        }
    }
    let label = |c: usize| runners[c].case.label.as_str();
    let index = |route: Route| routes.iter().position(|&r| r == route).unwrap();
    let case_index = |name: &str| (0..runners.len()).find(|&c| label(c) == name).unwrap();
    // `budget`: the most the ratio may be; `None` for ratios shown for information.
    let report = |name: String, budget: Option<f64>, ratio: &dyn Fn(&[Vec<f64>]) -> f64| {
        let mut values: Vec<f64> = times.iter().map(|round| ratio(round)).collect();
        values.sort_by(f64::total_cmp);
        let median = values[values.len() / 2];
        let (q1, q3) = (values[values.len() / 4], values[values.len() * 3 / 4]);
        let verdict = match budget {
            Some(b) if median <= b => format!(", budget <= {b} met"),
            Some(b) => format!(", budget <= {b} MISSED"),
            None => String::new(),
        };
        println!(
            "ratio: {name} = {median:.2} (middle half {q1:.2} - {q3:.2}, {ROUNDS} rounds){verdict}"
        );
    };
    let mut pairs = vec![
        (Route::Native, Route::Floor, Some(1.5)),
        (Route::Wapc, Route::Native, Some(2.0)),
        (Route::Wit, Route::Native, None),
        // The cost of the log record: written as the drain writes it, natively, and the
        // whole module against the baseline build.
        (Route::NativeLogged, Route::Native, None),
    ];
    if baseline {
        pairs.push((Route::Wapc, Route::WapcBaseline, None));
    }
    for (over, under, budget) in pairs {
        let (a, b) = (index(over), index(under));
        for c in 0..runners.len() {
            let name = format!("{} / {}, {}", over.name(), under.name(), label(c));
            report(name, budget, &|r| r[c][a] / r[c][b]);
        }
    }
    let (ten, hundred) = (case_index("10"), case_index("100"));
    for &route in &routes {
        let p = index(route);
        let name = format!("{} 100 / 10 containers", route.name());
        report(name, Some(12.0), &|r| r[hundred][p] / r[ten][p]);
    }
}

/// `AWI_BENCH_COUNT="<path> <case> <requests>"`: answers one case that many times and
/// exits, for `valgrind --tool=callgrind` (see `host/benches/count.sh`).
fn count_mode(runners: &mut [Runner<'_>], spec: &str) {
    let words: Vec<&str> = spec.split_whitespace().collect();
    let [path, label, requests] = words[..] else {
        panic!("AWI_BENCH_COUNT: expected \"<path> <case> <requests>\", got {spec:?}");
    };
    let path = Route::ALL
        .into_iter()
        .find(|p| p.name() == path)
        .unwrap_or_else(|| panic!("AWI_BENCH_COUNT: unknown path {path:?}"));
    let runner = runners
        .iter_mut()
        .find(|r| r.case.label == label)
        .unwrap_or_else(|| panic!("AWI_BENCH_COUNT: unknown case {label:?}"));
    let requests: usize = requests
        .parse()
        .expect("AWI_BENCH_COUNT: number of requests");
    let bytes: usize = (0..requests).map(|_| runner.run(path)).sum();
    println!(
        "count: {} {} x{requests}: {bytes} bytes answered",
        path.name(),
        label
    );
}

fn statement(i: usize) -> Value {
    // Alternate exact and wildcard subjects, as real multi-tenant trust policies do.
    let (operator, sub) = if i.is_multiple_of(2) {
        (
            "StringEquals",
            format!("system:serviceaccount:team-{i}:api"),
        )
    } else {
        (
            "StringLike",
            format!("system:serviceaccount:team-{i}:worker-*"),
        )
    };
    json!({
        "Sid": format!("Team{i}"),
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            operator: {"oidc.cpln.example/abc123:sub": sub},
            "StringEquals": {"oidc.cpln.example/abc123:aud": "sts.amazonaws.com"}
        }
    })
}

fn policy_of(statements: impl IntoIterator<Item = Value>) -> String {
    json!({"Version": "2012-10-17", "Statement": statements.into_iter().collect::<Vec<_>>()})
        .to_string()
}

/// The Control Plane template (`examples/settings.yaml` `trustPolicy`), rendered.
fn template_policy() -> String {
    let template = settings()["trustPolicy"].to_string();
    trust::render(&template, "payments", "api").expect("render")
}

fn trust_engine(c: &mut Criterion, policy: &Policy) {
    let documents = [
        ("template", template_policy(), "payments", "api"),
        (
            "10-statements",
            policy_of((0..10).map(statement)),
            "team-8",
            "api",
        ),
        (
            "100-statements",
            policy_of((0..100).map(statement)),
            "team-98",
            "api",
        ),
    ];
    let mut wit = policy.wit_instance().expect("WIT instance");
    let mut group = c.benchmark_group("trust");
    for (label, document, namespace, name) in &documents {
        let subject = Subject {
            issuer: ISSUER.to_string(),
            audience: "sts.amazonaws.com".to_string(),
            namespace: namespace.to_string(),
            service_account: name.to_string(),
        };
        let verdict = trust::check(document, ROLE, &subject).expect("check");
        assert!(verdict.allowed, "{label}: {:?}", verdict.explanation);
        group.bench_function(BenchmarkId::new("check-native", label), |b| {
            b.iter(|| trust::check(black_box(document), ROLE, &subject).unwrap())
        });
        let wit_subject = awi::Subject {
            issuer: subject.issuer.clone(),
            audience: subject.audience.clone(),
            namespace: subject.namespace.clone(),
            service_account: subject.service_account.clone(),
        };
        group.bench_function(BenchmarkId::new("check-wit", label), |b| {
            b.iter(|| wit.check(black_box(document), ROLE, &wit_subject).unwrap())
        });
        group.bench_function(BenchmarkId::new("lint-native", label), |b| {
            b.iter(|| trust::lint(black_box(document), Some(ROLE), ISSUER).unwrap())
        });
        group.bench_function(BenchmarkId::new("lint-wit", label), |b| {
            b.iter(|| wit.lint(black_box(document), Some(ROLE), ISSUER).unwrap())
        });
    }
    // "Who can assume" on 20 wildcard patterns over namespaces and names.
    let patterns: Vec<String> = (0..20)
        .map(|i| match i % 4 {
            0 => format!("system:serviceaccount:team-{i}:*"),
            1 => format!("system:serviceaccount:team-{i}-*:api"),
            2 => format!("system:serviceaccount:shared:job-{i}-*"),
            _ => format!("system:serviceaccount:team-?{i}:worker-*"),
        })
        .collect();
    let who_policy = policy_of([json!({
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringLike": {"oidc.cpln.example/abc123:sub": patterns},
            "StringEquals": {"oidc.cpln.example/abc123:aud": "sts.amazonaws.com"}
        }
    })]);
    trust::who(&who_policy, ROLE, ISSUER, "sts.amazonaws.com").expect("who");
    group.bench_function("who-native/20-wildcards", |b| {
        b.iter(|| trust::who(black_box(&who_policy), ROLE, ISSUER, "sts.amazonaws.com").unwrap())
    });
    group.bench_function("who-wit/20-wildcards", |b| {
        b.iter(|| {
            wit.who(black_box(&who_policy), ROLE, ISSUER, "sts.amazonaws.com")
                .unwrap()
        })
    });
    group.finish();
}

/// One worst case of `recorded::sized`: a `validate` payload filled to `bytes` in one kind
/// of data, with what each route needs.
struct Worst {
    name: &'static str,
    /// The payloads answered in turn: two for a kind that grows the settings (differing in
    /// the region only), so that every call prepares its settings as on their first request;
    /// one otherwise.
    payloads: Vec<Vec<u8>>,
    cluster: Vec<Value>,
}

impl Worst {
    /// `kind` filled to `bytes`.
    fn filled(kind: Kind, bytes: usize) -> Worst {
        Worst::new(
            kind.name(),
            sized::filled(kind, bytes),
            kind.grows_settings(),
        )
    }

    /// The largest trust policy the settings accept (`MAX_DOCUMENT_CHARS`), for a small
    /// Pod: its lint runs when the settings are prepared for the role's first Pod.
    fn largest_trust_policy() -> Worst {
        Worst::new("largest-trust-policy", sized::largest_trust_policy(), true)
    }

    fn new(name: &'static str, sized: SizedRequest, grows_settings: bool) -> Worst {
        let mut payloads = vec![sized.payload()];
        if grows_settings {
            let mut other = sized.clone();
            other.settings["region"] = json!("eu-west-2");
            payloads.push(other.payload());
        }
        Worst {
            name,
            payloads,
            cluster: sized.cluster,
        }
    }

    fn bytes(&self) -> usize {
        self.payloads[0].len()
    }

    /// The module through waPC with the ServiceAccount lookup, instance reused.
    fn wapc(&self, policy: &Policy) -> impl FnMut(usize) -> usize {
        let cluster = Arc::new(Objects::new(self.cluster.clone()));
        let instance = policy.wapc_instance(cluster).expect("waPC instance");
        move |call: usize| {
            let payload = &self.payloads[call % self.payloads.len()];
            let answer = instance
                .call("validate", black_box(payload))
                .expect("validate");
            assert!(answer.starts_with(br#"{"accepted":"#), "{}", self.name);
            answer.len()
        }
    }

    /// `Validator::validate` natively, kept across calls.
    fn native(&self) -> impl FnMut(usize) -> usize {
        let mut validator = Validator::new();
        move |call: usize| {
            let payload = &self.payloads[call % self.payloads.len()];
            let response = validator.validate(black_box(payload), |wanted| {
                match self.cluster.iter().find(|o| wanted.matches(o)) {
                    Some(found) => Lookup::Found(found.clone()),
                    None => Lookup::NotFound,
                }
            });
            serde_json::to_vec(&response).unwrap().len()
        }
    }
}

/// Every kind filled to `bytes`, then the largest trust policy the settings accept.
fn worst_cases(bytes: usize) -> Vec<Worst> {
    let mut cases: Vec<Worst> = Kind::ALL
        .into_iter()
        .map(|kind| Worst::filled(kind, bytes))
        .collect();
    cases.push(Worst::largest_trust_policy());
    cases
}

/// The largest request of every kind of `recorded::sized` (a `validate` payload of 3 MiB,
/// the largest request body the API server accepts), through the module via waPC with the
/// ServiceAccount lookup, and natively; to compare with Kubewarden's 2 s evaluation timeout.
fn worst_case(c: &mut Criterion, policy: &Policy) {
    let mut group = c.benchmark_group("worst");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for worst in worst_cases(API_SERVER_BODY_LIMIT) {
        group.throughput(Throughput::Bytes(worst.bytes() as u64));
        let mut wapc = worst.wapc(policy);
        let mut call = 0;
        group.bench_function(BenchmarkId::new("wapc", worst.name), |b| {
            b.iter(|| {
                call += 1;
                wapc(call)
            })
        });
        let mut native = worst.native();
        group.bench_function(BenchmarkId::new("native", worst.name), |b| {
            b.iter(|| {
                call += 1;
                native(call)
            })
        });
    }
    group.finish();
}

/// `AWI_BENCH_WORST_ONCE="<bytes>"`: one waPC call per kind at that payload size, timed
/// (`worst-once:` lines), then exits. For a module whose cost grows faster than the input,
/// where criterion's repetitions at 3 MiB would take hours: the growth shows from a few
/// smaller sizes (with `AWI_BENCH_MODULE` naming the older module).
fn worst_once(policy: &Policy, spec: &str) {
    let bytes: usize = spec
        .trim()
        .parse()
        .expect("AWI_BENCH_WORST_ONCE: payload bytes");
    for worst in worst_cases(bytes) {
        let mut wapc = worst.wapc(policy);
        wapc(0); // first call: instance warmed, settings prepared
        let start = Instant::now();
        wapc(1);
        println!(
            "worst-once: {} {} bytes: {:.1} ms",
            worst.name,
            worst.bytes(),
            start.elapsed().as_secs_f64() * 1e3
        );
    }
}

/// Module size and the peak linear memory of one evaluation of the 100-container Pod, on a
/// fresh instance: through WIT as recorded by the instance, through waPC as the smallest
/// memory cap (in 64 KiB pages) under which the call still succeeds.
fn report_memory(policy: &Policy, settings: &Value) {
    const PAGE: usize = 64 * 1024;
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    println!(
        "memory: module {} bytes ({:.3} MB)",
        policy.bytes().len(),
        policy.bytes().len() as f64 / 1e6
    );
    let case = cases(settings)
        .into_iter()
        .nth(2)
        .expect("100-container case");
    let settings_text = settings.to_string();
    let mut wit = policy.wit_instance().expect("WIT instance");
    let before = wit.peak_memory();
    wit.review_text(
        &settings_text,
        &case.review,
        &[case.service_account.to_string()],
    )
    .expect("WIT review");
    println!(
        "memory: WIT instance linear memory {:.2} MiB after instantiation, {:.2} MiB peak after one review of the 100-container Pod",
        mib(before),
        mib(wit.peak_memory())
    );

    let cluster = Arc::new(Objects::new(vec![case.service_account.clone()]));
    let fits = |pages: usize| {
        policy
            .module()
            .and_then(|module| WapcPolicy::with_memory_limit(policy.engine(), module, pages * PAGE))
            .and_then(|p| p.instantiate(cluster.clone()))
            .and_then(|instance| instance.call("validate", &case.payload))
            .is_ok_and(|answer| answer.starts_with(br#"{"accepted":true"#))
    };
    let (mut low, mut high) = (1, 1024);
    if !fits(high) {
        println!(
            "memory: waPC evaluation needs more than {} MiB",
            mib(high * PAGE)
        );
        return;
    }
    // Smallest page count that fits: `low` never fits, `high` always does.
    while high - low > 1 {
        let mid = (low + high) / 2;
        if fits(mid) { high = mid } else { low = mid }
    }
    println!(
        "memory: waPC one validate of the 100-container Pod fits in {high} pages = {:.2} MiB of linear memory",
        mib(high * PAGE)
    );
}

fn main() {
    // `AWI_BENCH_MODULE=<file.wasm>` measures another build of the module (e.g. an older one).
    let module = std::env::var_os("AWI_BENCH_MODULE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(awi::default_module_path);
    println!("module: {}", module.display());
    let engine = awi::new_engine(None).expect("engine");
    let policy = Policy::load_with(&engine, &module).expect("policy module");
    // `AWI_BENCH_BASELINE=<file.wasm>` adds the route `wapc-baseline` with that module, timed
    // in pairs against this one (e.g. the module before the log records).
    let baseline = std::env::var_os("AWI_BENCH_BASELINE").map(|path| {
        println!("baseline module: {}", Path::new(&path).display());
        Policy::load_with(&engine, Path::new(&path)).expect("baseline module")
    });
    let settings = settings();
    let mut runners = runners(&policy, baseline.as_ref(), &settings);
    if let Ok(spec) = std::env::var("AWI_BENCH_COUNT") {
        count_mode(&mut runners, &spec);
        return;
    }
    if let Ok(spec) = std::env::var("AWI_BENCH_WORST_ONCE") {
        worst_once(&policy, &spec);
        return;
    }
    report_memory(&policy, &settings);
    if std::env::var_os("AWI_BENCH_NO_RATIOS").is_none() {
        paired_ratios(&mut runners);
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    pod_mutation(&mut c, &mut runners);
    trust_engine(&mut c, &policy);
    worst_case(&mut c, &policy);
    c.final_summary();
}
