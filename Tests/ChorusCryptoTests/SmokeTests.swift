import Testing
@testable import ChorusCrypto

@Test func blake2bEmpty() {
    #expect(Blake2b.hash256([]).hex == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
}
