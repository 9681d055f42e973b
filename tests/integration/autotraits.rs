//! The core types can be shared across threads.

use leadflow::criteria::{Condition, CriteriaRegistry, Verdict};
use leadflow::lifecycle::{LeadLifecycle, LifecycleDefinition, Transition, TransitionRecord};
use leadflow::{Event, Lead, LifecycleStateMachine, Points, Scores};

fn send_sync<T: Send + Sync>() {}

#[test]
fn core_types_are_send_and_sync() {
    send_sync::<Lead>();
    send_sync::<Event>();
    send_sync::<Points>();
    send_sync::<Scores>();
    send_sync::<Condition>();
    send_sync::<CriteriaRegistry>();
    send_sync::<Verdict>();
    send_sync::<Transition>();
    send_sync::<TransitionRecord>();
    send_sync::<LifecycleDefinition>();
    send_sync::<LifecycleStateMachine>();
    send_sync::<LeadLifecycle>();
}
