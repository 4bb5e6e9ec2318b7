import ChorusCrypto
import ChorusMesh

/// What `chorusd run` changes on SIGHUP without a restart. The node's `configuration` is fixed for
/// its run (its listeners, budgets and services were built from it); only seeds can be given again,
/// since a seed is nothing more than a dial candidate.
extension Node {
    /// Dials `seeds` (the ones a reloaded configuration added): they become dial candidates and
    /// address-book entries, as seeds do at start; an address already known is left as it is.
    /// Seeds dropped from the configuration are not forgotten: by then they are ordinary known
    /// peers (remembered in the store), which the node keeps however it first heard of them.
    public func addSeeds(_ seeds: [String]) throws(NodeError) {
        var parsed: [(NetAddress, Ed25519.PublicKey?)] = []
        for seed in seeds {
            do { parsed.append((try NetAddress(parsing: seed), nil)) } catch { throw .invalidAddress(seed, error.description) }
        }
        guard isRunning, !parsed.isEmpty else { return }
        manager.addCandidates(parsed)
        discovery.learnDialable(parsed)
        logger.info("seeds added", metadata: ["addresses": "\(seeds.joined(separator: ","))"])
    }
}
