//! Peers on several machines (nodes): burn-collective's global orchestrator and the
//! configuration each node's peer registers with.

use burn::collective::CollectiveConfig;
use burn::tensor::backend::AutodiffBackend;

use super::Peer;
use crate::{Error, Result};

/// One node of a multi-machine run with one peer (one device) per node: the node's index
/// is its peer's rank.
///
/// Each node runs a data service on `data_port` that the other nodes connect to at
/// `node_address`; the orchestrator (started once, on any machine, with
/// [`start_orchestrator`]) introduces them. On one machine (loopback) give every node its
/// own port; across machines use each node's reachable address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// Number of nodes.
    pub nodes: usize,
    /// This node's index, `0..nodes` (peer 0 writes checkpoints).
    pub node: usize,
    /// The orchestrator, `host:port`.
    pub orchestrator: String,
    /// The address other nodes reach this node's data service at, `host:port`.
    pub node_address: String,
    /// The port this node's data service listens on.
    pub data_port: u16,
}

impl NodeConfig {
    /// Node `node` of `nodes`, reached by the others at `node_address` (`host:port`, its
    /// port is the data service's), meeting them through the orchestrator at `orchestrator`
    /// (`host:port`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `node >= nodes` or an address is not `host:port`.
    pub fn new(nodes: usize, node: usize, orchestrator: &str, node_address: &str) -> Result<Self> {
        let data_port = port_of("node_address", node_address)?;
        port_of("orchestrator", orchestrator)?;
        let config = Self {
            nodes,
            node,
            orchestrator: orchestrator.to_owned(),
            node_address: node_address.to_owned(),
            data_port,
        };
        config.collective_config()?;
        Ok(config)
    }

    /// burn-collective's configuration for this node (one local device).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `node >= nodes` or an address does not parse.
    pub fn collective_config(&self) -> Result<CollectiveConfig> {
        if self.nodes == 0 || self.node >= self.nodes {
            return Err(Error::config(
                "node",
                format!(
                    "node {} must be below the number of nodes {} (≥ 1)",
                    self.node, self.nodes
                ),
            ));
        }
        let address = |name: &str, s: &str| {
            format!("ws://{s}")
                .parse()
                .map_err(|e: String| Error::config(name, format!("`{s}`: {e}")))
        };
        Ok(CollectiveConfig::default()
            .with_num_devices(1)
            .with_num_nodes(self.nodes as u32)
            .with_global_address(address("orchestrator", &self.orchestrator)?)
            .with_node_address(address("node_address", &self.node_address)?)
            .with_data_service_port(self.data_port)
            .with_global_all_reduce_strategy(burn::collective::AllReduceStrategy::Centralized))
    }

    /// Registers this node's one peer (rank = node index, world = number of nodes). Blocks
    /// until every node has registered with the orchestrator.
    ///
    /// # Errors
    /// Those of [`NodeConfig::collective_config`] and [`Peer::register`].
    pub fn register<B: AutodiffBackend>(&self, device: &B::Device) -> Result<Peer> {
        Peer::register::<B>(self.node, self.nodes, device, self.collective_config()?)
    }
}

/// The port of `host:port`.
fn port_of(name: &str, address: &str) -> Result<u16> {
    address
        .rsplit_once(':')
        .filter(|(host, _)| !host.is_empty())
        .and_then(|(_, port)| port.parse().ok())
        .ok_or_else(|| Error::config(name, format!("expected host:port, got `{address}`")))
}

/// Starts burn-collective's global orchestrator on `port` (all interfaces) in a background
/// thread with its own async runtime, and returns at once; it serves until the process
/// exits. One orchestrator serves a whole run; start it on any one machine, typically in
/// node 0's process.
///
/// # Errors
/// [`Error::Io`] when the port cannot be listened on (already in use, say) or the runtime
/// cannot be created.
pub fn start_orchestrator(port: u16) -> Result<()> {
    let io_error = |source| Error::Io {
        path: format!("<orchestrator port {port}>").into(),
        source,
    };
    // burn-collective logs a failed bind and carries on; check the port first.
    drop(std::net::TcpListener::bind(("0.0.0.0", port)).map_err(io_error)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(io_error)?;
    std::thread::spawn(move || {
        runtime.block_on(burn_collective::start_global_orchestrator(port));
    });
    Ok(())
}
