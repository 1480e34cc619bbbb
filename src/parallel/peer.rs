//! A data-parallel peer and the threads that run a group of them in one process.

use std::sync::Mutex;

use burn::collective::{self, CollectiveConfig, PeerId};
use burn::tensor::backend::AutodiffBackend;

use super::collective_ops::collective_error;
use crate::{Error, Result};

/// One of `world` data-parallel peers, registered with burn-collective on the inner
/// (non-autodiff) backend. Ranks run from 0 to `world − 1`; a peer's rows sit in slot
/// `rank` of everything gathered; peer 0 (the leader) writes checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    rank: usize,
    world: usize,
    fault: GatherFault,
}

/// Deliberate bugs of the gather, for tests that must fail when the gather is wrong: the
/// failures of lightly #1528 (no sum over peers in the backward) and open_clip #1047 (the
/// gathered copy carries no gradient; only the local rows do). Never use outside tests.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GatherFault {
    /// The correct gather.
    #[default]
    None,
    /// Backward keeps the peer's own gradient rows without summing over peers.
    NoSum,
    /// Only the peer's own rows (its local copy) carry a gradient.
    NoGradient,
}

impl Peer {
    /// Registers the calling thread as peer `rank` of `world` on the inner backend of `B`,
    /// for `device`. Every peer must pass the same `config`; it blocks until all `world`
    /// peers (on every node of `config`) have registered.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `rank >= world` or `world` is 0;
    /// [`Error::Collective`] when burn-collective refuses (a rank registered twice, configs
    /// that differ, an unreachable orchestrator).
    pub fn register<B: AutodiffBackend>(
        rank: usize,
        world: usize,
        device: &B::Device,
        config: CollectiveConfig,
    ) -> Result<Self> {
        if world == 0 || rank >= world {
            return Err(Error::config(
                "peer rank",
                format!("rank {rank} must be below the number of peers {world} (≥ 1)"),
            ));
        }
        let id = PeerId::from(rank as u32);
        collective::register::<B::InnerBackend>(id, device.clone(), config)
            .map_err(|e| collective_error("register", rank, e))?;
        Ok(Self {
            rank,
            world,
            fault: GatherFault::None,
        })
    }

    /// This peer's rank, `0..world`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// How many peers take part.
    pub fn world(&self) -> usize {
        self.world
    }

    /// Whether this is peer 0, the one that writes checkpoints and history.
    pub fn is_leader(&self) -> bool {
        self.rank == 0
    }

    /// burn-collective's id of this peer.
    pub fn id(&self) -> PeerId {
        PeerId::from(self.rank as u32)
    }

    /// The same peer with a deliberately broken gather (tests only).
    #[doc(hidden)]
    #[must_use]
    pub fn with_fault(mut self, fault: GatherFault) -> Self {
        self.fault = fault;
        self
    }

    pub(crate) fn fault(&self) -> GatherFault {
        self.fault
    }

    /// Leaves the collective group (and, across nodes, the orchestrator's session).
    ///
    /// # Errors
    /// [`Error::Collective`] when the peer was not registered.
    pub fn finish<B: AutodiffBackend>(&self) -> Result<()> {
        collective::finish_collective::<B::InnerBackend>(self.id())
            .map_err(|e| collective_error("finish", self.rank, e))
    }
}

/// One collective group per process at a time: burn-collective's server is process-wide
/// per backend type.
static GROUP: Mutex<()> = Mutex::new(());

/// Runs `work` on one thread per device, each registered as a peer (rank = position in
/// `devices`), and returns their results in rank order. On ndarray pass the CPU device
/// `k` times to simulate `k` peers.
///
/// Holds a process-wide lock while the peers run, so groups started from several threads
/// (tests) run one after another.
///
/// A peer that returns an error before a collective call its partners make leaves them
/// waiting: the peers must run the same steps on equal shards (what the trainer does).
///
/// # Errors
/// The first peer's error in rank order; [`Error::InvalidConfig`] for no devices;
/// [`Error::Collective`] when registering fails.
pub fn run_peers<B, T>(
    devices: Vec<B::Device>,
    work: impl Fn(Peer, B::Device) -> Result<T> + Sync,
) -> Result<Vec<T>>
where
    B: AutodiffBackend,
    T: Send,
{
    if devices.is_empty() {
        return Err(Error::config("peers", "at least one device is required"));
    }
    let _group = GROUP
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    collective::reset_collective::<B::InnerBackend>();
    let world = devices.len();
    let config = CollectiveConfig::default().with_num_devices(world);
    let results: Vec<Result<T>> = std::thread::scope(|scope| {
        let handles: Vec<_> = devices
            .into_iter()
            .enumerate()
            .map(|(rank, device)| {
                let (work, config) = (&work, config.clone());
                scope.spawn(move || {
                    let peer = Peer::register::<B>(rank, world, &device, config)?;
                    let out = work(peer.clone(), device);
                    peer.finish::<B>()?;
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    collective::reset_collective::<B::InnerBackend>();
    results.into_iter().collect()
}
