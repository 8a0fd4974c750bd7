//! What the desk shows: chat, agent and offer views in the API's wire types, and the live
//! stats (chats per state, agents per status, KPIs per queue and overall, route latency).

use std::collections::BTreeMap;

use super::{Caller, ChatRecord, Desk, DeskError, OfferRecord, chat_name, offer_name};
use crate::api::{
    self, AgentCounts, Chat, ChatCounts, Latency, Leg, Offer, OfferKind, QueueStats, Retained,
    Skill, Stats,
};
use crate::metrics::{QueueKpis, QueueTally};
use crate::routing::{AgentId, AgentStatus, ChatState, QueueId, Time};
use crate::server::prom;

impl Desk {
    pub(super) fn chat_out(
        &self,
        key: u64,
        rec: &ChatRecord,
        caller: &Caller,
    ) -> Result<Chat, DeskError> {
        let id = chat_name(key);
        let view = self.view(rec).ok_or_else(|| DeskError::unknown_chat(&id))?;
        let now = self.now();
        let (position, ewt) = match rec.router_id {
            Some(chat) if view.state == ChatState::Queued => (
                self.router.position(chat).unwrap_or(0),
                self.router.estimated_wait(now, chat).unwrap_or(0),
            ),
            _ => (0, 0),
        };
        let epoch = |t: Option<Time>| t.map(|t| self.epoch(t));
        Ok(Chat {
            id,
            queue: self.queue_name(view.queue),
            customer: rec.customer.clone(),
            priority: view.priority,
            state: view.state,
            position,
            estimated_wait_secs: self.profile_secs(ewt),
            agent: view.agent.and_then(|a| self.agent_name(a)),
            created_at: self.epoch(view.created_at),
            queued_at: self.epoch(view.queued_at),
            offered_at: epoch(view.offered_at),
            answered_at: epoch(view.answered_at),
            first_response_at: epoch(view.first_response_at),
            closed_at: epoch(view.closed_at),
            transfers: view.transfers,
            resolution: rec.resolution,
            csat: view.csat,
            messages: rec.messages.len() as u64,
            legs: rec
                .legs
                .iter()
                .map(|&(answered, ended)| Leg {
                    answered_at: self.epoch(answered),
                    ended_at: ended.map(|t| self.epoch(t)),
                })
                .collect(),
            notes: matches!(caller, Caller::Agent(_)).then(|| rec.notes.clone()),
        })
    }

    pub(super) fn agent_out(
        &self,
        agent: AgentId,
        registered: bool,
    ) -> Result<api::Agent, DeskError> {
        let view = self
            .router
            .agent(agent)
            .ok_or_else(|| DeskError::unknown_agent(&agent.to_string()))?;
        let skills = self
            .agents
            .get(agent.0 as usize)
            .map(|r| {
                r.skills
                    .iter()
                    .map(|(name, proficiency)| Skill {
                        name: name.clone(),
                        proficiency: *proficiency,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(api::Agent {
            id: view.name,
            status: view.status,
            skills,
            concurrency: view.cap,
            active: view.active,
            pending_offers: view.pending_offers,
            misses: view.misses,
            registered,
        })
    }

    // ----- stats -----

    fn queue_stats(&self, tally: &QueueTally, waiting: u64) -> QueueStats {
        QueueStats {
            kpis: QueueKpis::from_tally(tally),
            wait_p50_secs: tally.wait_hist().quantile_secs(0.5),
            wait_p90_secs: tally.wait_hist().quantile_secs(0.9),
            frt_p90_secs: tally.frt_hist().quantile_secs(0.9),
            waiting,
        }
    }

    /// `GET /metrics`: the stats and the live histograms, taken in one step.
    pub(crate) fn metrics_snapshot(&self) -> prom::Snapshot {
        prom::Snapshot {
            stats: self.stats(false),
            answered_within: self
                .queues
                .iter()
                .map(|q| (q.name.clone(), q.tally.answered_within()))
                .collect(),
            live: self.telemetry.gather(),
        }
    }

    /// `GET /v1/stats`; `buckets` adds the route-latency histogram's counts.
    pub(crate) fn stats(&self, buckets: bool) -> Stats {
        let counts = self.router.counts();
        let mut overall = QueueTally::default();
        let mut queues = BTreeMap::new();
        for (i, q) in self.queues.iter().enumerate() {
            overall.merge(&q.tally);
            let waiting = self.router.queue_len(QueueId(i as u32)) as u64;
            queues.insert(q.name.clone(), self.queue_stats(&q.tally, waiting));
        }
        let mut agents = AgentCounts {
            registered: self.agents.len() as u64,
            ..AgentCounts::default()
        };
        for i in 0..self.router.num_agents() {
            match self.router.agent(AgentId(i as u32)).map(|v| v.status) {
                Some(AgentStatus::Available) => agents.available += 1,
                Some(AgentStatus::Away) => agents.away += 1,
                Some(AgentStatus::Offline) => agents.offline += 1,
                Some(AgentStatus::Draining) => agents.draining += 1,
                None => {}
            }
        }
        let route_latency = Latency::of(&self.route_latency);
        let route_latency_buckets = buckets.then(|| {
            self.route_latency
                .iter_recorded()
                .map(|v| [v.value_iterated_to(), v.count_at_value()])
                .collect()
        });
        let waiting = counts.queued;
        Stats {
            profile: self.profile_name.clone(),
            time_scale: self.scale,
            uptime_secs: self.start.elapsed().as_secs_f64(),
            chats: ChatCounts {
                created: counts.created + self.refused_full,
                queued: counts.queued,
                offered: counts.offered,
                active: counts.active,
                closed: counts.closed,
                abandoned: counts.abandoned,
                rejected: counts.rejected + self.refused_full,
            },
            agents,
            overall: self.queue_stats(&overall, waiting),
            queues,
            route_latency,
            route_latency_buckets,
            retained: Retained {
                chats: self.chats.len() as u64,
                offers: self.offers.len() as u64,
            },
        }
    }

    pub(super) fn offer_out(&self, key: u64, offer: &OfferRecord) -> Option<Offer> {
        let rec = self.chats.get(&offer.chat)?;
        let view = self.view(rec)?;
        Some(Offer {
            offer_id: offer_name(key),
            kind: if offer.seq.is_some() {
                OfferKind::Offer
            } else {
                OfferKind::Assignment
            },
            chat_id: chat_name(offer.chat),
            queue: self.queue_name(view.queue),
            customer: rec.customer.clone(),
            priority: view.priority,
            chat_created_at: self.epoch(view.created_at),
            offered_at: self.epoch(offer.offered_at),
            deadline: offer.deadline.map(|d| self.epoch(d)),
            delivered_at: self.epoch(offer.delivered_at.unwrap_or(offer.offered_at)),
            transfers: view.transfers,
        })
    }
}
