//! Placeholders with the signatures of the fit's parts (handling, survival) so that the command compiles and runs end to end before they are in.
#![allow(dead_code)]

pub(crate) mod handling {
    use crate::fit::History;
    use crate::fit::report::{DistFit, GroupFit, SlowdownLevel};

    pub(crate) struct Handling {
        pub queues: Vec<(Option<DistFit>, Vec<SlowdownLevel>)>,
        pub groups: Vec<GroupFit>,
        pub warnings: Vec<String>,
    }

    pub(crate) fn handling(h: &History) -> Handling {
        Handling {
            queues: h.queues.iter().map(|_| (None, Vec::new())).collect(),
            groups: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

pub(crate) mod survival {
    use crate::fit::History;
    use crate::fit::report::PatienceFit;

    pub(crate) fn patience(_h: &History, _q: u16) -> Option<PatienceFit> {
        None
    }
}
