import Foundation
import Testing
import TestSupport

/// The worker pool resized 10,000 times back to back (vaert_set_threads between 1 and 8), alone, with
/// calls in between, with calls that fail fast, and while two other threads decode. Each run is a
/// separate process under a time limit, so that a lost wakeup fails the test instead of hanging it.
@Suite(.serialized) struct PoolStressTests {
    @Test("10,000 back-to-back resizes between 1 and 8 threads finish, and every decode keeps its bits",
          arguments: ["resize", "calls", "failing", "concurrent"])
    func resizes(mode: String) throws {
        let run = try TestSupport.run("\(TestSupport.binDir)/vaert-pool-stress", [mode, "10000", TestSupport.readyModel], timeout: 300)
        #expect(run.status == 0 && run.stdout.contains("10000 resizes between 1 and 8 threads") && run.stdout.contains(": ok"),
                "status \(run.status): \(run.stdout)\(run.stderr)")
    }
}
