import ChorusCrypto
import ChorusLoop
import ChorusProtocol
import ChorusWire

/// The proof protocol (Specs/proofs.md) on the node: session messages of tag 4. As a prover it
/// answers signed requests for the leaves of its own commits, from the engine's tree or, after a
/// restart, from a tree rebuilt from the artifact table; as a validator it sends requests and
/// waits for the answer with a deadline. Malformed or forged messages and answers nobody asked
/// for from that peer cost the peer its session; over-eager peers are answered `rateLimited`.
extension Node {
    /// The session-message protocol tag of proof requests and responses.
    public static let proofTag: UInt8 = 4

    func startProofs() {
        setHandler(for: Self.proofTag) { [weak self] peer, bytes in
            self?.assumeIsolated { $0.receivedProofMessage(bytes, from: peer) }
        }
    }

    private func receivedProofMessage(_ bytes: ArraySlice<UInt8>, from peer: Ed25519.PublicKey) {
        guard poc != nil else { return }
        let message: ProofMessage
        do { message = try ProofMessage(decoding: bytes) } catch {
            poc!.counters.malformedMessages += 1
            misbehaved(peer, because: "malformed proof message: \(error)")
            return
        }
        switch message {
        case let .request(request):
            serveProofs(request, to: peer)
        case let .response(response):
            guard let waiter = poc!.proofWaiters[response.requestID], waiter.peer == peer, waiter.commit == response.commit else {
                // Late answers (after the deadline) are normal; count them, do not punish.
                poc!.counters.unsolicitedResponses += 1
                return
            }
            finishProofWait(response.requestID, with: response)
        }
    }

    private func serveProofs(_ request: ProofRequest, to peer: Ed25519.PublicKey) {
        guard request.isSigned(by: peer, networkID: configuration.networkID) else {
            poc!.counters.forgedRequests += 1
            misbehaved(peer, because: "proof request with a signature that is not the peer's")
            return
        }
        if poc!.faults.withholdProofs {
            poc!.counters.requestsWithheld += 1
            return
        }
        func answer(_ status: ProofResponse.Status, _ proofs: [MerkleProof] = []) {
            let response = ProofResponse(requestID: request.requestID, commit: request.commit, status: status, proofs: proofs)
            send(ProofMessage.response(response).encoded(), tag: Self.proofTag, to: peer, priority: .forward)
        }
        var bucket = poc!.buckets[peer] ?? TokenBucket()
        let allowed = bucket.take()
        poc!.buckets[peer] = bucket
        guard allowed else {
            poc!.counters.requestsRateLimited += 1
            return answer(.rateLimited)
        }
        guard let engine = epochs?.engine,
              let statement = engine.statements(epoch: request.epoch).first(where: { $0.id == request.commit }), statement.author == publicKey
        else {
            poc!.counters.requestsUnknownCommit += 1
            return answer(.unknownCommit)
        }
        var proofs: [MerkleProof] = []
        if statement.type == .pocCommit, let body = try? statement.decodeBody(as: PoCCommitBody.self), body.model == request.model {
            for index in request.indices where index < body.count {
                if let proof = proof(epoch: request.epoch, body: body, index: index) { proofs.append(proof) }
            }
        } else if statement.type == .confirmationCommit, let body = try? statement.decodeBody(as: ConfirmationCommitBody.self), body.model == request.model {
            for index in request.indices where index < body.count {
                let live = engine.confirmationProof(epoch: request.epoch, window: body.window, model: body.model, index: index)
                if let proof = Self.verified(live, root: body.root, count: body.count, depth: body.depth) { proofs.append(proof) }
            }
        } else {
            poc!.counters.requestsUnknownCommit += 1
            return answer(.unknownCommit)
        }
        poc!.counters.requestsServed += 1
        answer(.ok, proofs)
    }

    /// The proof of `index` that verifies against `body`: from the engine's live tree, else from
    /// the tree rebuilt from saved artifacts.
    private func proof(epoch: UInt64, body: PoCCommitBody, index: UInt64) -> MerkleProof? {
        func fits(_ p: MerkleProof?) -> MerkleProof? { Self.verified(p, root: body.root, count: body.count, depth: body.depth) }
        if let p = fits(epochs?.engine.proof(epoch: epoch, model: body.model, index: index)) { return p }
        let key = DiskTreeKey(epoch: epoch, model: body.model)
        if poc!.diskTrees[key] == nil, let store = poc!.artifacts, let saved = try? loadArtifacts(store, epoch: epoch, model: body.model) {
            var tree = SparseMerkleSumTree(depth: body.depth)
            for (nonce, artifact) in saved { try? tree.insert(nonce: nonce, artifact: artifact) }
            poc!.diskTrees[key] = tree
        }
        return fits(poc!.diskTrees[key]?.proof(index: index))
    }

    /// `proof` if it verifies against the committed tree `(root, count, depth)`: a prover never
    /// serves a proof of a tree it did not commit (e.g. one that grew after the commit).
    private static func verified(_ proof: MerkleProof?, root: Bytes32, count: UInt64, depth: UInt8) -> MerkleProof? {
        guard let proof, (try? proof.verify(root: root, count: count, depth: depth)) != nil else { return nil }
        return proof
    }

    /// Asks `author` for the proofs of `indices` (≤ `ProofRequest.maxIndices`, ascending) of its
    /// commit; nil when there is no session with it or no answer within `timeout`.
    func requestProofs(from author: Ed25519.PublicKey, epoch: UInt64, model: String, commit: Bytes32,
                       indices: [UInt64], timeout: Duration) async -> ProofResponse? {
        guard poc != nil else { return nil }
        poc!.nextRequestID += 1
        let id = poc!.nextRequestID
        let request = ProofRequest(requestID: id, epoch: epoch, model: model, commit: commit, indices: indices,
                                   networkID: configuration.networkID, validator: signingKey)
        guard send(ProofMessage.request(request).encoded(), tag: Self.proofTag, to: author, priority: .forward) else { return nil }
        poc!.counters.requestsSent += 1
        return await withCheckedContinuation { (continuation: CheckedContinuation<ProofResponse?, Never>) in
            self.assumeIsolated { node in
                let timer = LoopTimer(on: node.loop)
                node.poc?.proofWaiters[id] = ProofWaiter(peer: author, commit: commit, continuation: continuation, timer: timer)
                timer.schedule(after: timeout) { [weak node] in
                    node?.assumeIsolated { node in
                        node.poc?.counters.requestsUnanswered += 1
                        node.finishProofWait(id, with: nil)
                    }
                }
            }
        }
    }

    func finishProofWait(_ id: UInt64, with response: ProofResponse?) {
        guard let waiter = poc?.proofWaiters.removeValue(forKey: id) else { return }
        waiter.timer.close()
        waiter.continuation.resume(returning: response)
    }
}
