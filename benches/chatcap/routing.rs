//! Routing-core decision speed at contact-centre scale: 10,000 agents (cap 3, 2–3 skills
//! each), 50 queues over 20 skills (2–3 queues per skill), auto accept, about 90% of slots
//! busy. One decision is either an arrival routed to an agent or a close whose slot is refilled
//! from the waiting chats (if any). Two measurements:
//!
//! - `routing/steady_decision` (criterion): throughput of alternating closes and arrivals;
//! - a per-decision latency histogram over 400,000 individually timed decisions, printed to
//!   stderr as median, p90, p99 and p99.9 (criterion reports only means and spreads).

use std::hint::black_box;
use std::time::Instant;

use chatcap::routing::{
    AcceptMode, AgentConfig, AgentSelection, AgentStatus, ChatId, ChatOrder, Decision, QueueConfig,
    QueueId, Router, RouterConfig, SECOND, Time, TransferPlace,
};
use criterion::Criterion;
use hdrhistogram::Histogram;

const AGENTS: u32 = 10_000;
const QUEUES: u32 = 50;
const SKILLS: u32 = 20;
const CAP: u32 = 3;
/// Active chats kept in steady state: 90% of all slots.
const TARGET_ACTIVE: usize = (AGENTS * CAP) as usize * 9 / 10;
const TIMED_DECISIONS: usize = 400_000;

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The steady stream: a router at 90% occupancy and the chats it holds.
struct Stream {
    router: Router,
    active: Vec<ChatId>,
    out: Vec<Decision>,
    rng: Rng,
    now: Time,
    closes_next: bool,
}

impl Stream {
    fn new() -> Stream {
        let mut router = Router::new(RouterConfig {
            selection: AgentSelection::LeastBusy,
            order: ChatOrder::Weighted {
                priority_weight: 60 * SECOND,
            },
            accept: AcceptMode::Auto,
            transfer_place: TransferPlace::Keep,
        });
        // Skills 0..10 serve 3 queues, skills 10..20 serve 2: 50 queues.
        let mut q = 0;
        for skill in 0..SKILLS {
            for _ in 0..if skill < 10 { 3 } else { 2 } {
                router
                    .add_queue(QueueConfig {
                        name: format!("queue{q}"),
                        skill: format!("skill{skill}"),
                        priority: (q % 3) as i32,
                        max_len: None,
                    })
                    .expect("valid queue");
                q += 1;
            }
        }
        assert_eq!(q, QUEUES);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut out = Vec::new();
        for a in 0..AGENTS {
            let first = rng.below(SKILLS as usize) as u32;
            let count = 2 + (a % 2);
            let skills = (0..count)
                .map(|k| {
                    let skill = (first + k * 7) % SKILLS;
                    (format!("skill{skill}"), 1 + rng.below(10) as u8)
                })
                .collect();
            let id = router
                .add_agent(AgentConfig {
                    name: format!("agent{a}"),
                    skills,
                    cap: CAP,
                })
                .expect("valid agent");
            router
                .set_status(0, id, AgentStatus::Available, &mut out)
                .expect("known agent");
        }
        let mut stream = Stream {
            router,
            active: Vec::new(),
            out,
            rng,
            now: SECOND,
            closes_next: false,
        };
        while stream.active.len() < TARGET_ACTIVE {
            stream.arrive();
        }
        stream
    }

    fn arrive(&mut self) {
        self.out.clear();
        let queue = QueueId(self.rng.below(QUEUES as usize) as u32);
        self.router
            .arrive(self.now, queue, 0, &mut self.out)
            .expect("known queue");
        self.collect_assigned();
    }

    /// Tracks chats that became active (the arrival itself, or refills after a close).
    fn collect_assigned(&mut self) {
        for d in &self.out {
            if let Decision::Assigned { chat, .. } = *d {
                self.active.push(chat);
            }
        }
    }

    fn close(&mut self) {
        self.out.clear();
        let i = self.rng.below(self.active.len());
        let chat = self.active.swap_remove(i);
        self.router
            .close(self.now, chat, 1, None, &mut self.out)
            .expect("active chat");
        self.router.release(chat).expect("closed chat");
        self.collect_assigned();
    }

    /// One decision: alternately a close (refilling the slot) and an arrival (routed), so the
    /// number of busy slots stays near the target.
    fn step(&mut self) {
        self.now += 1_000;
        self.closes_next = !self.closes_next;
        if self.closes_next && self.active.len() >= TARGET_ACTIVE {
            self.close();
        } else {
            self.arrive();
        }
    }
}

fn wants(filter_word: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty() || filters.iter().any(|f| filter_word.contains(f.as_str()))
}

/// Times each decision on its own and prints the percentiles.
fn latency_percentiles() {
    let mut stream = Stream::new();
    for _ in 0..50_000 {
        stream.step();
    }
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).expect("valid bounds");
    for _ in 0..TIMED_DECISIONS {
        let start = Instant::now();
        stream.step();
        let nanos = start.elapsed().as_nanos() as u64;
        histogram.saturating_record(nanos.max(1));
    }
    let counts = stream.router.counts();
    let occupancy = counts.active as f64 / f64::from(AGENTS * CAP);
    eprintln!(
        "routing/decision_latency: {} decisions at occupancy {:.1}% ({} waiting): median {} ns, \
         p90 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
        histogram.len(),
        occupancy * 100.0,
        counts.queued,
        histogram.value_at_quantile(0.5),
        histogram.value_at_quantile(0.9),
        histogram.value_at_quantile(0.99),
        histogram.value_at_quantile(0.999),
        histogram.max(),
    );
}

pub fn benches(c: &mut Criterion) {
    if !wants("routing/steady_decision routing/decision_latency") {
        return;
    }
    latency_percentiles();
    let mut stream = Stream::new();
    c.bench_function("routing/steady_decision", |b| {
        b.iter(|| {
            stream.step();
            black_box(stream.out.len())
        })
    });
}
