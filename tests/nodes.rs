//! Data parallelism across processes: two `data_parallel --nodes 2` processes on loopback
//! meet through burn-collective's orchestrator, train together, and end where the
//! one-process run on the whole batch ends.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::example_errors::example;
use super::example_flags::refused;
use super::trainer::temp_dir;

/// Three ports free right now (orchestrator, node 0, node 1).
fn free_ports() -> [u16; 3] {
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let port = |i: usize| listeners[i].local_addr().unwrap().port();
    [port(0), port(1), port(2)]
}

/// Starts node `node` of 2 with its report going to `json`.
fn start_node(node: usize, ports: [u16; 3], extra: &[&str], json: &Path) -> Child {
    let mut command = Command::new(example("data_parallel"));
    command.args([
        "--nodes",
        "2",
        "--node",
        &node.to_string(),
        "--orchestrator",
        &format!("127.0.0.1:{}", ports[0]),
        "--node-address",
        &format!("127.0.0.1:{}", ports[1 + node]),
        "--json",
        json.to_str().unwrap(),
    ]);
    if node == 0 {
        command.args(["--serve-orchestrator", &ports[0].to_string()]);
    }
    command
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for both nodes, killing both if either is still running after `limit` (a hang
/// must fail the test, not the CI job). Returns each node's exit status and output.
fn wait_both(mut nodes: [Child; 2], limit: Duration) -> Vec<(Option<i32>, String)> {
    let start = Instant::now();
    while nodes.iter_mut().any(|c| c.try_wait().unwrap().is_none()) {
        if start.elapsed() > limit {
            for c in &mut nodes {
                let _ = c.kill();
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    nodes
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.code(), text)
        })
        .collect()
}

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Two processes, one peer each, 6 Adam steps on 2 × 8 pairs: both finish, agree on every
/// step's loss, and their parameters equal the one-device run's to 1e-5.
#[test]
fn two_processes_on_loopback_train_like_one() {
    let dir = temp_dir("nodes-loopback");
    let json = [dir.join("node0.json"), dir.join("node1.json")];
    let ports = free_ports();
    let extra = ["--steps", "6", "--batch-size", "16"];
    let nodes = [
        start_node(0, ports, &extra, &json[0]),
        start_node(1, ports, &extra, &json[1]),
    ];
    let outcomes = wait_both(nodes, Duration::from_secs(240));
    for (node, (code, text)) in outcomes.iter().enumerate() {
        assert_eq!(*code, Some(0), "node {node}:\n{text}");
    }
    let reports = [report(&json[0]), report(&json[1])];
    for (node, r) in reports.iter().enumerate() {
        assert_eq!(r["peers"], 2, "{r}");
        assert_eq!(r["node"], node, "{r}");
        assert_eq!(r["global_batch"], 16, "{r}");
        assert_eq!(r["negatives_per_row"], 30, "{r}");
        assert!(r["max_abs_param_diff"].as_f64().unwrap() <= 1e-5, "{r}");
        assert!(r["max_loss_diff"].as_f64().unwrap() <= 1e-5, "{r}");
        assert_eq!(r["losses"].as_array().unwrap().len(), 6, "{r}");
    }
    assert_eq!(
        reports[0]["losses"], reports[1]["losses"],
        "both nodes report the global batch's loss"
    );
}

/// Node flags out of range are usage errors naming the flag, before anything connects.
#[test]
fn bad_node_flags_are_refused() {
    let ports = free_ports();
    let orchestrator = format!("127.0.0.1:{}", ports[0]);
    let address = format!("127.0.0.1:{}", ports[1]);
    let base = |node: &str, address: &str| {
        vec![
            "--nodes".to_owned(),
            "2".into(),
            "--node".into(),
            node.into(),
            "--orchestrator".into(),
            orchestrator.clone(),
            "--node-address".into(),
            address.into(),
        ]
    };
    refused("data_parallel", &base("2", &address), "--node");
    refused("data_parallel", &base("0", "localhost"), "--node-address");
    refused(
        "data_parallel",
        &["--nodes", "2", "--node", "0"],
        "--orchestrator",
    );
    refused("data_parallel", &["--node", "0"], "--nodes");
    let taken = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut serving = base("0", &address);
    serving.extend(["--serve-orchestrator".to_owned(), port]);
    let (code, stderr) = super::example_flags::run("data_parallel", &serving);
    assert_eq!(code, Some(1), "a port in use is a run error: {stderr}");
    assert!(stderr.contains("orchestrator port"), "{stderr}");
}
