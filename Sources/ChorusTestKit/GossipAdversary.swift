import ChorusMesh

/// A node that departs from the gossip protocol, interposed between the node's honest router and the
/// network: every RPC the router wants to send passes through `outgoing`, which may alter or drop
/// it. The hostile-peer tests implement it with test doubles (a withholder, a flooder) to check that
/// honest nodes still deliver everything on time.
public protocol GossipAdversary: Sendable {
    /// What the node sends to `peer` instead of `rpc`; nil sends nothing.
    func outgoing(_ rpc: GossipRPC, from node: Int, to peer: Int) -> GossipRPC?
}
