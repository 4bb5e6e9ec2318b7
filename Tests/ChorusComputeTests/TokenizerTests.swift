import ChorusWorkerAPI
import Foundation
import Testing
@testable import ChorusCompute

/// Vectors from Hugging Face `tokenizers` (Tools/vectors/tokenizer_vectors.py).
struct TokenizerVectors: Decodable {
    struct Split: Decodable { let text: String; let gpt2: [String]; let smollm: [String] }
    struct Case: Decodable { let text: String; let ids: [Int] }
    struct BPE: Decodable {
        let tokens: [String]
        let control: [Int]
        let merges: [String]
        let pre: String
        let cases: [Case]
    }
    let pretokenize: [Split]
    let bpe: BPE

    static func load() throws -> TokenizerVectors {
        try JSONDecoder().decode(TokenizerVectors.self, from: Data(contentsOf: TestPaths.vector("tokenizer.json")))
    }

    func tokenizer() throws -> BPETokenizer {
        var types = [BPETokenizer.TokenType](repeating: .normal, count: bpe.tokens.count)
        for id in bpe.control { types[id] = .control }
        return try BPETokenizer(tokens: bpe.tokens, types: types, merges: bpe.merges, bosID: nil, eosID: 1,
                                preTokenizer: try #require(PreTokenizer(ggufName: bpe.pre)))
    }
}

@Suite struct TokenizerTests {
    @Test func preTokenizerMatchesHuggingFace() throws {
        let v = try TokenizerVectors.load()
        #expect(v.pretokenize.count >= 10)
        for split in v.pretokenize {
            // HF reports pieces in the byte alphabet; ours are text.
            let gpt2 = PreTokenizer.gpt2.split(split.text).map { ByteLevel.encode(Array($0.utf8)) }
            let smollm = PreTokenizer.gpt2DigitsSplit.split(split.text).map { ByteLevel.encode(Array($0.utf8)) }
            #expect(gpt2 == split.gpt2, "\(split.text.debugDescription)")
            #expect(smollm == split.smollm, "\(split.text.debugDescription)")
        }
    }

    @Test func bpeMatchesHuggingFaceOnATrainedVocabulary() throws {
        let v = try TokenizerVectors.load()
        let tokenizer = try v.tokenizer()
        for c in v.bpe.cases {
            #expect(tokenizer.encode(c.text) == c.ids, "\(c.text.debugDescription)")
            #expect(tokenizer.decode(c.ids, renderSpecial: true) == c.text)
        }
    }

    @Test func specialTokensCanBeTreatedAsText() throws {
        let tokenizer = try TokenizerVectors.load().tokenizer()
        let text = "<|im_start|>user"
        #expect(tokenizer.encode(text).first == 0)
        let plain = tokenizer.encode(text, parseSpecial: false)
        #expect(!plain.contains(0))
        #expect(tokenizer.decode(plain) == text)
        #expect(tokenizer.decode([0, 40]) == "G", "control tokens are not rendered by default")
        #expect(tokenizer.isSpecial(0) && !tokenizer.isSpecial(40))
    }

    @Test(arguments: ["", "plain ascii", "naïve café — 日本語 🎉\n\t tabs", "\u{0}\u{1}\u{7f}", String(repeating: "ab", count: 500)])
    func byteLevelRoundTrip(text: String) {
        let tokenizer = BPETokenizer.byteLevel()
        let ids = tokenizer.encode(text)
        #expect(ids == Array(text.utf8).map(Int.init))
        #expect(tokenizer.decode(ids) == text)
    }

    @Test func decodeToleratesCutCharactersAndBadIds() {
        let tokenizer = BPETokenizer.byteLevel()
        let euro = Array("€".utf8).map(Int.init)  // three bytes
        #expect(tokenizer.decode(Array(euro.prefix(2))) == "\u{FFFD}")
        #expect(tokenizer.decode([72, -5, 999, 105]) == "Hi")
        #expect(tokenizer.bytes(of: euro[0]) == [0xE2])
    }

    @Test func addsBOSOnlyWhenAsked() throws {
        let tokenizer = try BPETokenizer(tokens: ["<s>"] + (0..<256).map { String(ByteLevel.byteToScalar[$0]) },
                                         types: [.control] + [BPETokenizer.TokenType](repeating: .normal, count: 256),
                                         merges: [], bosID: 0, eosID: nil, addsBOS: true, preTokenizer: .gpt2)
        #expect(tokenizer.encode("A") == [0, 66])
        #expect(tokenizer.encode("A", addBOS: false) == [66])
    }

    @Test func inconsistentVocabulariesAreRejected() {
        #expect(throws: TokenizerError.self) {
            try BPETokenizer(tokens: ["a"], types: [.normal, .normal], merges: [], bosID: nil, eosID: nil, preTokenizer: .gpt2)
        }
        #expect(throws: TokenizerError.self) {
            try BPETokenizer(tokens: ["a"], merges: [], bosID: nil, eosID: 3, preTokenizer: .gpt2)
        }
        #expect(throws: TokenizerError.self) {
            try BPETokenizer(tokens: ["a", "b", "ab"], merges: ["ab"], bosID: nil, eosID: nil, preTokenizer: .gpt2)
        }
        #expect(PreTokenizer(ggufName: "llama3") == nil)
    }
}

@Suite struct ChatTemplateTests {
    /// SmolLM2-135M-Instruct's `tokenizer.chat_template`, verbatim.
    static let smolLM2 = """
        {% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system
        You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
        ' }}{% endif %}{{'<|im_start|>' + message['role'] + '
        ' + message['content'] + '<|im_end|>' + '
        '}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant
        ' }}{% endif %}
        """

    @Test func recognisesSmolLM2AndItsDefaultSystemPrompt() throws {
        let template = try ChatTemplate(jinja: Self.smolLM2)
        #expect(template.format == .chatML(defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        let prompt = template.render([ChatMessage(role: "user", content: "What is the capital of France?")])
        #expect(prompt == """
            <|im_start|>system
            You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
            <|im_start|>user
            What is the capital of France?<|im_end|>
            <|im_start|>assistant

            """)
        let withSystem = template.render([ChatMessage(role: "system", content: "Be brief."),
                                          ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: false)
        #expect(withSystem == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
        #expect(template.render([]) == "<|im_start|>assistant\n")
    }

    @Test func plainChatMLWithoutDefaultSystem() throws {
        let source = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
        let template = try ChatTemplate(jinja: source)
        #expect(template.format == .chatML(defaultSystemPrompt: nil))
        #expect(template.render([ChatMessage(role: "user", content: "x")]) == "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test(arguments: [
        "{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}",
        "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>{% endfor %}",
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>'}}{% if tools %}{% endif %}{% endfor %}",
        "",
    ])
    func unsupportedTemplatesAreRejected(source: String) {
        #expect(throws: TokenizerError.self) { try ChatTemplate(jinja: source) }
    }
}
