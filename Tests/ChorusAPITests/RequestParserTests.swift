import Foundation
import Testing
@testable import ChorusAPI
@testable import ChorusInference

@Suite struct RequestParserTests {
    let limits = APILimits()

    func parse(_ json: String, _ kind: CompletionKind = .chat) throws(OpenAIError) -> ParsedRequest {
        try RequestParser.parse(Data(json.utf8), kind: kind, limits: limits)
    }

    func refusal(_ json: String, _ kind: CompletionKind = .chat) -> OpenAIError? {
        do {
            _ = try parse(json, kind)
            return nil
        } catch {
            return error
        }
    }

    @Test func chatRequestBecomesAJob() throws {
        let p = try parse("""
            {"model": "m", "messages": [{"role": "system", "content": "be brief"},
             {"role": "user", "content": [{"type": "text", "text": "What is "}, {"type": "text", "text": "2+2?"}]}],
             "max_completion_tokens": 12, "temperature": 0, "top_p": 0.9, "top_k": 40, "stop": ["\\n\\n", "END"],
             "stream": true, "stream_options": {"include_usage": true}, "logprobs": true, "top_logprobs": 3, "n": 1}
            """)
        #expect(p.job.model == "m")
        #expect(p.job.input == .chat([.init(role: "system", content: "be brief"), .init(role: "user", content: "What is 2+2?")]))
        #expect(p.job.maxTokens == 12 && p.job.temperature == 0 && p.job.topP == 0.9 && p.job.topK == 40)
        #expect(p.job.stop == ["\n\n", "END"] && p.job.topLogprobs == 3)
        #expect(p.stream && p.includeUsage)
    }

    @Test func legacyCompletionTakesAPromptAndALogprobCount() throws {
        let p = try parse(#"{"model": "m", "prompt": ["Once upon"], "logprobs": 2, "stop": "."}"#, .text)
        #expect(p.job.input == .text("Once upon") && p.job.topLogprobs == 2 && p.job.stop == ["."])
        #expect(p.job.temperature == 1 && p.job.maxTokens == nil && !p.stream)
    }

    @Test func unknownParametersAreRefusedByName() {
        for (name, json) in [("seed", #"{"model":"m","messages":[{"role":"user","content":"x"}],"seed":1}"#),
                             ("ignore_eos", #"{"model":"m","messages":[{"role":"user","content":"x"}],"ignore_eos":true}"#),
                             ("messages", #"{"model":"m","prompt":"x","messages":[]}"#)] {
            let kind: CompletionKind = name == "messages" ? .text : .chat
            let e = refusal(json, kind)
            #expect(e?.status == 400 && e?.param == name, "\(name): \(String(describing: e))")
            #expect(e?.message.contains("Unrecognized request argument supplied: \(name)") == true)
        }
        let e = refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"x":1}}"#)
        #expect(e?.param == "stream_options.x")
    }

    @Test func malformedAndMistypedBodiesSayWhatIsWrong() {
        #expect(refusal("{not json")?.code == "invalid_json")
        #expect(refusal("[1,2]")?.message.contains("JSON object") == true)
        #expect(refusal(#"{"messages":[{"role":"user","content":"x"}]}"#)?.param == "model")
        #expect(refusal(#"{"model":"m"}"#)?.param == "messages")
        #expect(refusal(#"{"model":"m","messages":[]}"#)?.param == "messages")
        #expect(refusal(#"{"model":"m","messages":[{"role":"tool","content":"x"}]}"#)?.param == "messages[0].role")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x","tool_calls":[]}]}"#)?.param == "messages[0].tool_calls")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]}"#)?.param == "messages[0].content[0]")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":"9"}"#)?.param == "max_tokens")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":2.5}"#)?.param == "max_tokens")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":4,"max_completion_tokens":5}"#)?.param == "max_completion_tokens")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":2.5}"#)?.param == "temperature")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"top_p":0}"#)?.param == "top_p")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}"#)?.param == "n")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"top_logprobs":2}"#)?.param == "top_logprobs")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}"#)?.param == "stream_options")
        #expect(refusal(#"{"model":"m","prompt":[1,2,3]}"#, .text)?.param == "prompt")
    }

    /// Each bound of `APILimits` refused just past it.
    @Test func limitsAreEnforcedJustPastThem() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"user":"u","stop":\#(deep)}"#)?.message.contains("nests") == true)
        let many = Array(repeating: #"{"role":"user","content":"x"}"#, count: limits.maxMessages + 1).joined(separator: ",")
        #expect(refusal(#"{"model":"m","messages":[\#(many)]}"#)?.param == "messages")
        let fits = Array(repeating: #"{"role":"user","content":"x"}"#, count: limits.maxMessages).joined(separator: ",")
        #expect(refusal(#"{"model":"m","messages":[\#(fits)]}"#) == nil)
        let stops = (0...limits.maxStopSequences).map { "\"s\($0)\"" }.joined(separator: ",")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"stop":[\#(stops)]}"#)?.param == "stop")
        let long = String(repeating: "a", count: limits.maxStopBytes + 1)
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"stop":"\#(long)"}"#)?.param == "stop")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":\#(limits.maxTokens + 1)}"#)?.param == "max_tokens")
        #expect(refusal(#"{"model":"m","messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":6}"#)?.param == "top_logprobs")
        #expect(refusal(#"{"model":"m","prompt":"x","logprobs":6}"#, .text)?.param == "logprobs")
    }

    @Test func errorBodyHasOpenAIsShape() throws {
        let body = try #require(try JSONSerialization.jsonObject(with: OpenAIError.invalid("top_p", "bad").body) as? [String: Any])
        let error = try #require(body["error"] as? [String: Any])
        #expect(error["message"] as? String == "bad" && error["type"] as? String == "invalid_request_error")
        #expect(error["param"] as? String == "top_p" && error["code"] is NSNull)
    }
}
