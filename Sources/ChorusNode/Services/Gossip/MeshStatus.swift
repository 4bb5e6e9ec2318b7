/// `mesh`: the node's topic meshes, its peers' scores and the router's counters.
public struct MeshStatus: Codable, Sendable, Equatable {
    public struct TopicMesh: Codable, Sendable, Equatable {
        public var topic: String
        public var peers: [String]
    }

    public struct PeerScoreEntry: Codable, Sendable, Equatable {
        public var publicKey: String
        public var score: Double
        enum CodingKeys: String, CodingKey { case publicKey = "public_key", score }
    }

    public struct Counters: Codable, Sendable, Equatable {
        public var duplicates: Int
        public var firstDeliveries: Int
        public var invalid: Int
        public var ignoredFromGraylisted: Int
        public var iwantRefusedOverLimit: Int
        public var ihaveIgnored: Int
        public var graftsDuringBackoff: Int
        enum CodingKeys: String, CodingKey {
            case duplicates, invalid
            case firstDeliveries = "first_deliveries"
            case ignoredFromGraylisted = "ignored_from_graylisted"
            case iwantRefusedOverLimit = "iwant_refused_over_limit"
            case ihaveIgnored = "ihave_ignored"
            case graftsDuringBackoff = "grafts_during_backoff"
        }
    }

    public var topics: [TopicMesh]
    public var scores: [PeerScoreEntry]
    public var counters: Counters
}
