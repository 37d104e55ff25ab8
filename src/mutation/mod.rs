//! Pod mutation: the pod identity webhook's behaviour on raw JSON.
