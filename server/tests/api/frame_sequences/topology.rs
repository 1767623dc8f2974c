//! Where the three clients connect: all to one server, or each to its own node of a
//! three-node cluster (one Postgres database, one Redis), started once and shared by
//! every case of a run (each case makes fresh users and rooms).

use super::model::Rule;
use crate::helpers::{Cluster, TestApp};

pub enum Topology {
    /// One server (SQLite, the in-process broker).
    One(TestApp),
    /// Client `c` on node `c` of the cluster.
    Cluster(Cluster),
}

impl Topology {
    /// The node client `client` connects to.
    pub fn node(&self, client: usize) -> &TestApp {
        match self {
            Topology::One(app) => app,
            Topology::Cluster(cluster) => &cluster.nodes[client % cluster.nodes.len()],
        }
    }

    /// Every node, for the health check at the end.
    pub fn nodes(&self) -> Vec<&TestApp> {
        match self {
            Topology::One(app) => vec![app],
            Topology::Cluster(cluster) => cluster.nodes.iter().collect(),
        }
    }

    /// The membership rule the model holds the server to here.
    pub fn rule(&self) -> Rule {
        match self {
            Topology::One(_) => Rule::AtTheAck,
            Topology::Cluster(_) => Rule::AtTheAckOrJoinedSince,
        }
    }
}
