import Testing
@testable import ChorusCompute

@Suite struct DequantizeTests {
    @Test func halfConversionKnownValues() {
        #expect(Dequantize.halfToFloat(0x3C00) == 1)
        #expect(Dequantize.halfToFloat(0xC000) == -2)
        #expect(Dequantize.halfToFloat(0x0001) == 0x1p-24)
        #expect(Dequantize.halfToFloat(0x7BFF) == 65504)
        #expect(Dequantize.halfToFloat(0x7C00) == .infinity)
        #expect(Dequantize.halfToFloat(0x8000).sign == .minus)
    }
}
