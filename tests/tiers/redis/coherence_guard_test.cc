// CoherenceGuard: the read/invalidation and own-write orderings, each one
// forced step by step (the guard is plain bookkeeping: no threads needed).
#include "tiers/redis/coherence_guard.h"

#include <gtest/gtest.h>

namespace plancache::internal {
namespace {

class CoherenceGuardTest : public ::testing::Test {
 protected:
  void SetUp() override { guard.set_coherent(true); }
  CoherenceGuard guard;
};

TEST_F(CoherenceGuardTest, AReadWithNothingInBetweenHolds) {
  const uint64_t t = guard.begin_read("k");
  EXPECT_TRUE(guard.close(t));
  EXPECT_EQ(guard.tracked_keys(), 0u) << "nothing left behind";
}

TEST_F(CoherenceGuardTest, AForeignInvalidationDuringAReadFailsIt) {
  const uint64_t t = guard.begin_read("k");
  EXPECT_TRUE(guard.invalidated("k")) << "nobody here wrote k: foreign";
  EXPECT_FALSE(guard.close(t)) << "the value read may be the old one";
}

TEST_F(CoherenceGuardTest, AnInvalidationOfAnotherKeyDoesNotCount) {
  const uint64_t t = guard.begin_read("k");
  EXPECT_TRUE(guard.invalidated("other"));
  EXPECT_TRUE(guard.close(t));
}

TEST_F(CoherenceGuardTest, AnInvalidationBeforeTheReadOpenedDoesNotCount) {
  EXPECT_TRUE(guard.invalidated("k"));
  const uint64_t t = guard.begin_read("k");
  EXPECT_TRUE(guard.close(t));
}

TEST_F(CoherenceGuardTest, AnOwnWriteIsNotTakenForAForeignOne) {
  const uint64_t w = guard.begin_write("k");
  EXPECT_FALSE(guard.invalidated("k")) << "the message of our own SET";
  EXPECT_TRUE(guard.close(w));
  EXPECT_EQ(guard.tracked_keys(), 0u);
}

TEST_F(CoherenceGuardTest, TheOwnMessageMayArriveAfterTheWriteClosed) {
  const uint64_t w = guard.begin_write("k");
  EXPECT_TRUE(guard.close(w));
  EXPECT_EQ(guard.tracked_keys(), 1u) << "still waiting for its message";
  EXPECT_FALSE(guard.invalidated("k"));
  EXPECT_TRUE(guard.invalidated("k")) << "the next one is someone else's";
}

TEST_F(CoherenceGuardTest, AForeignWriteDuringAnOwnWriteFailsIt) {
  const uint64_t w = guard.begin_write("k");
  EXPECT_FALSE(guard.invalidated("k"));  // ours
  EXPECT_TRUE(guard.invalidated("k"));   // then another instance's
  EXPECT_FALSE(guard.close(w)) << "the local copy must go: Redis holds the other value";
}

// A foreign message that raced our write is consumed as ours; our own
// message then counts as foreign, so the write still fails.
TEST_F(CoherenceGuardTest, AForeignMessageTakenForOursShiftsTheFailureToOurs) {
  const uint64_t w = guard.begin_write("k");
  EXPECT_FALSE(guard.invalidated("k")) << "someone else's, landed just before our SET";
  EXPECT_TRUE(guard.invalidated("k")) << "ours, now seen as foreign";
  EXPECT_FALSE(guard.close(w));
}

TEST_F(CoherenceGuardTest, AReadOverlappingAnOwnWriteFails) {
  // Read began first: the write's start fails it.
  const uint64_t r1 = guard.begin_read("k");
  const uint64_t w = guard.begin_write("k");
  // Read began during the write: it may have read the value before the SET.
  const uint64_t r2 = guard.begin_read("k");
  EXPECT_FALSE(guard.close(r2)) << "closed before the write";
  EXPECT_TRUE(guard.close(w));
  EXPECT_FALSE(guard.close(r1));
}

TEST_F(CoherenceGuardTest, AReadThatClosesAfterTheWriteClosedFails) {
  const uint64_t w = guard.begin_write("k");
  const uint64_t r = guard.begin_read("k");
  EXPECT_TRUE(guard.close(w));
  EXPECT_FALSE(guard.close(r));
}

TEST_F(CoherenceGuardTest, TwoOwnWritesAtOnceBothFail) {
  const uint64_t w1 = guard.begin_write("k");
  const uint64_t w2 = guard.begin_write("k");
  EXPECT_FALSE(guard.close(w1));
  EXPECT_FALSE(guard.close(w2));
}

TEST_F(CoherenceGuardTest, AWriteThatNeverLandedExpectsNoMessage) {
  const uint64_t w = guard.begin_write("k");
  guard.close(w, /*applied=*/false);
  EXPECT_EQ(guard.tracked_keys(), 0u);
  EXPECT_TRUE(guard.invalidated("k")) << "a later message is foreign";
}

TEST_F(CoherenceGuardTest, InvalidateAllFailsEveryOpenGuardButNotLaterOnes) {
  const uint64_t a = guard.begin_read("a");
  const uint64_t b = guard.begin_write("b");
  guard.invalidate_all();
  const uint64_t c = guard.begin_read("c");
  EXPECT_FALSE(guard.close(a));
  EXPECT_FALSE(guard.close(b));
  EXPECT_TRUE(guard.close(c));
}

TEST_F(CoherenceGuardTest, NothingHoldsWhileIncoherent) {
  const uint64_t before = guard.begin_read("k");
  const uint64_t write = guard.begin_write("w");
  guard.set_coherent(false);
  const uint64_t during = guard.begin_read("k");
  EXPECT_FALSE(guard.close(before));
  EXPECT_FALSE(guard.close(during));
  EXPECT_FALSE(guard.close(write));
  EXPECT_EQ(guard.tracked_keys(), 0u) << "pending own messages are forgotten";
  const uint64_t opened_while_lost = guard.begin_read("k");
  guard.set_coherent(true);
  EXPECT_FALSE(guard.close(opened_while_lost)) << "opened while messages were missed";
  EXPECT_TRUE(guard.close(guard.begin_read("k")));
}

TEST(CoherenceGuardStart, IsIncoherentUntilTheListenersAreUp) {
  CoherenceGuard guard;
  EXPECT_FALSE(guard.coherent());
  EXPECT_FALSE(guard.close(guard.begin_read("k")));
  EXPECT_FALSE(guard.close(12345)) << "an unknown ticket never holds";
}

}  // namespace
}  // namespace plancache::internal
