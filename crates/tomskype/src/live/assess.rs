//! Live capture (`live`): how often the verdict so far is assessed while a capture runs. It
//! comes from the same enrich and classify stages as the final report
//! ([`Gatherer::assess`](crate::analyze::Gatherer::assess)), run on the traffic as it stands;
//! its cost grows with the flows still going and the hosts with a sign, so the session re-runs
//! it at most every [`MIN_ASSESS_EVERY`] and never for more than about 2% of the time
//! ([`next_assessment`]). How it is shown is the caller's business (the `tomskype` binary draws
//! a status line, and writes the hosts that change as JSON lines when asked).

use std::time::Duration;

/// The verdict so far is recomputed at most this often.
pub const MIN_ASSESS_EVERY: Duration = Duration::from_secs(1);
/// Time between assessments, as a multiple of what the last one took.
const ASSESS_DUTY: u32 = 50;

/// How long to wait before the next assessment, given how long the last one took.
pub fn next_assessment(took: Duration) -> Duration {
    MIN_ASSESS_EVERY.max(took.saturating_mul(ASSESS_DUTY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assessments_are_spaced_by_their_cost() {
        assert_eq!(next_assessment(Duration::ZERO), MIN_ASSESS_EVERY);
        assert_eq!(next_assessment(Duration::from_millis(10)), MIN_ASSESS_EVERY);
        assert_eq!(
            next_assessment(Duration::from_millis(100)),
            Duration::from_secs(5)
        );
        assert!(next_assessment(Duration::from_millis(30)) > MIN_ASSESS_EVERY);
        assert_eq!(next_assessment(Duration::MAX), Duration::MAX);
    }
}
