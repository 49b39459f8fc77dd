//! Authorization: the one place that decides whether an actor may take an action.
//!
//! Every HTTP route and UI form asks [`Actor::authorize`] before it touches the store; nothing
//! else in the program compares roles. A customer only ever sees tickets of their own
//! organisation (or, without one, their own tickets), and never sees internal notes.

use crate::knowledge::Visibility;
use crate::{Role, Tier};

/// The signed-in user, as the rules need to know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user's id.
    pub user_id: i64,
    /// The user's role.
    pub role: Role,
    /// The customer's organisation, if any.
    pub org_id: Option<i64>,
    /// The agent's tier, if any.
    pub tier: Option<Tier>,
}

/// The ticket facts that decide who may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketScope {
    /// The organisation the ticket belongs to.
    pub org_id: Option<i64>,
    /// The person who raised it.
    pub requester_id: i64,
}

/// Something an actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read a ticket, its public messages and public events.
    ReadTicket(TicketScope),
    /// Read internal notes and internal events of a ticket.
    ReadInternal,
    /// Raise a ticket as oneself.
    CreateTicket,
    /// Raise a ticket on someone else's behalf, or set triage fields on creation.
    CreateTicketOnBehalf,
    /// Reply publicly on a ticket.
    Reply(TicketScope),
    /// Add an internal note.
    AddInternalNote,
    /// Change triage fields: status, priority, assignee, team, tags, links.
    Triage,
    /// Mark one's own ticket resolved, or reopen it.
    CustomerSetStatus(TicketScope),
    /// Escalate or de-escalate between tiers.
    Escalate,
    /// File a structured bug report for engineering (L3 and up).
    FileBugReport,
    /// See team queues and search all tickets.
    ListQueues,
    /// Read users, teams and organisations.
    ReadDirectory,
    /// Create and change users, teams, organisations and tokens.
    Administer,
    /// Create and change business calendars, SLA policies and vendors.
    ManageSla,
    /// See incidents, alerts, services and maintenance windows.
    ReadIncidents,
    /// Declare incidents, change their status, post notes, link tickets.
    RespondToIncident,
    /// Create and change services and maintenance windows.
    ManageOperations,
    /// Read an article: published ones by their visibility, drafts only by staff.
    ReadArticle(ArticleScope),
    /// Write, publish, archive and restore articles; link them to tickets.
    EditArticles,
    /// Create and change knowledge base categories.
    ManageKnowledge,
    /// Say whether a readable article helped, or that it answered the question.
    RateArticle,
    /// Write runbooks.
    EditRunbooks,
    /// Answer a ticket's satisfaction survey: its requester only.
    RateSatisfaction(TicketScope),
    /// Add to a ticket by e-mail (a reply threaded to it): its requester, customers of its
    /// organisation, and staff (whose mail becomes an internal note).
    ReplyByMail(TicketScope),
}

/// The article facts that decide who may read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArticleScope {
    /// Who the article is for.
    pub visibility: Visibility,
    /// Whether a version of it is published (and it is not archived).
    pub published: bool,
}

/// What a search may return to an actor; the search index turns it into a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchReach {
    /// Internal notes are searched and shown.
    pub internal: bool,
    /// Which tickets.
    pub tickets: Confinement,
    /// Which articles.
    pub articles: ArticleReach,
    /// Incidents and problem records (staff only).
    pub records: bool,
}

/// Which articles a search may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleReach {
    /// Published public articles only (customers and anonymous visitors).
    Public,
    /// Every article but those restricted to a tier above this one.
    UpToTier(Tier),
    /// Every article.
    All,
}

impl SearchReach {
    /// What an anonymous visitor of the help centre may find: published public articles.
    pub const ANONYMOUS: SearchReach = SearchReach {
        internal: false,
        tickets: Confinement::Nothing,
        articles: ArticleReach::Public,
        records: false,
    };
}

/// Whose tickets a report may count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportReach {
    /// Every ticket and incident.
    Desk,
    /// Tickets assigned to this user (an agent's own report); no incidents.
    Own(i64),
}

/// Why an action is refused; `Hidden` means the caller must not learn that the thing exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The actor may not know the object exists (answer as not found).
    #[error("not found")]
    Hidden,
    /// The actor may see the object but not do this.
    #[error("{0}")]
    Forbidden(&'static str),
}

impl Actor {
    /// Whether this actor may take `action`: for showing or hiding a control (the action
    /// itself is authorized again where it is taken).
    pub fn may(&self, action: Action) -> bool {
        self.authorize(action).is_ok()
    }

    /// Whether this actor works on the staff side of the desk (sees queues, internal notes and
    /// the directory); everyone else is a customer.
    pub fn works_the_desk(&self) -> bool {
        self.may(Action::ListQueues)
    }

    /// Decides whether this actor may take `action`.
    pub fn authorize(&self, action: Action) -> Result<(), Denied> {
        use Action::*;
        use Role::*;
        let role = self.role;
        match action {
            ReadTicket(scope) | Reply(scope) | CustomerSetStatus(scope) if role == Customer => {
                if self.owns(scope) {
                    Ok(())
                } else {
                    Err(Denied::Hidden)
                }
            }
            ReadTicket(_) => Ok(()),
            Reply(_) | AddInternalNote | Triage => self.staff_writer(),
            CustomerSetStatus(_) => self.staff_writer(),
            ReadInternal | ListQueues | ReadDirectory => match role {
                Customer => Err(Denied::Forbidden("only the desk's staff can see this")),
                _ => Ok(()),
            },
            CreateTicket => match role {
                Auditor => Err(Denied::Forbidden("auditors have read-only access")),
                _ => Ok(()),
            },
            CreateTicketOnBehalf => self.staff_writer(),
            Escalate => self.staff_writer(),
            FileBugReport => match role {
                Admin | Manager => Ok(()),
                Agent if self.tier.is_some_and(|t| t >= Tier::L3) => Ok(()),
                Agent => Err(Denied::Forbidden(
                    "bug reports are filed by L3 agents and above",
                )),
                Customer | Auditor => Err(Denied::Forbidden(
                    "bug reports are filed by L3 agents and above",
                )),
            },
            ManageSla => match role {
                Admin | Manager => Ok(()),
                _ => Err(Denied::Forbidden(
                    "only administrators and managers can change SLA settings",
                )),
            },
            ReadIncidents => match role {
                Customer => Err(Denied::Forbidden("only the desk's staff can see incidents")),
                _ => Ok(()),
            },
            RespondToIncident => self.staff_writer(),
            ManageOperations => match role {
                Admin | Manager => Ok(()),
                _ => Err(Denied::Forbidden(
                    "only administrators and managers can change services and maintenance windows",
                )),
            },
            ReadArticle(scope) => {
                // A tier restriction holds for every version, drafts and archived ones too.
                let tier_ok = match scope.visibility {
                    Visibility::Tier(tier) => match role {
                        Admin | Manager | Auditor => true,
                        Agent => self.tier.unwrap_or(Tier::L0) >= tier,
                        Customer => false,
                    },
                    _ => true,
                };
                let readers = tier_ok
                    && match scope.visibility {
                        _ if !scope.published => self.role.is_staff(),
                        Visibility::Public => true,
                        Visibility::Internal | Visibility::Tier(_) => self.role.is_staff(),
                    };
                if readers {
                    Ok(())
                } else {
                    Err(Denied::Hidden)
                }
            }
            EditArticles | EditRunbooks => self.staff_writer(),
            RateArticle => match role {
                Auditor => Err(Denied::Forbidden("auditors have read-only access")),
                _ => Ok(()),
            },
            ReplyByMail(scope) => {
                if role != Customer || self.owns(scope) || scope.requester_id == self.user_id {
                    Ok(())
                } else {
                    Err(Denied::Hidden)
                }
            }
            RateSatisfaction(scope) => {
                if !self.owns(scope) {
                    Err(Denied::Hidden)
                } else if role == Customer && scope.requester_id == self.user_id {
                    Ok(())
                } else {
                    Err(Denied::Forbidden(
                        "satisfaction is rated by the ticket's requester",
                    ))
                }
            }
            ManageKnowledge => match role {
                Admin | Manager => Ok(()),
                _ => Err(Denied::Forbidden(
                    "only administrators and managers can change knowledge base categories",
                )),
            },
            Administer => match role {
                Admin => Ok(()),
                _ => Err(Denied::Forbidden("only administrators can do this")),
            },
        }
    }

    /// Whose tickets this actor's reports count: the whole desk for administrators, managers
    /// and auditors, an agent's own (assigned) tickets for an agent, nothing for customers.
    pub fn report_reach(&self) -> Result<ReportReach, Denied> {
        match self.role {
            Role::Admin | Role::Manager | Role::Auditor => Ok(ReportReach::Desk),
            Role::Agent => Ok(ReportReach::Own(self.user_id)),
            Role::Customer => Err(Denied::Forbidden("only the desk's staff can read reports")),
        }
    }

    /// Whether this actor sees internal notes and internal events.
    pub fn sees_internal(&self) -> bool {
        self.authorize(Action::ReadInternal).is_ok()
    }

    /// What a search may return to this actor.
    pub fn search_reach(&self) -> SearchReach {
        let articles = match (self.role, self.tier) {
            (Role::Customer, _) => ArticleReach::Public,
            (Role::Agent, Some(tier)) => ArticleReach::UpToTier(tier),
            (Role::Agent, None) => ArticleReach::UpToTier(Tier::L0),
            _ => ArticleReach::All,
        };
        SearchReach {
            internal: self.sees_internal(),
            tickets: self.confined_to(),
            articles,
            records: self.authorize(Action::ReadIncidents).is_ok(),
        }
    }

    /// The organisation a customer is confined to; staff are confined to none.
    pub fn confined_to(&self) -> Confinement {
        match (self.role, self.org_id) {
            (Role::Customer, Some(org)) => Confinement::Organisation(org),
            (Role::Customer, None) => Confinement::Requester(self.user_id),
            _ => Confinement::None,
        }
    }

    fn owns(&self, scope: TicketScope) -> bool {
        match self.confined_to() {
            Confinement::Organisation(org) => scope.org_id == Some(org),
            Confinement::Requester(user) => scope.requester_id == user,
            Confinement::None => true,
            Confinement::Nothing => false,
        }
    }

    fn staff_writer(&self) -> Result<(), Denied> {
        match self.role {
            Role::Admin | Role::Manager | Role::Agent => Ok(()),
            Role::Auditor => Err(Denied::Forbidden("auditors have read-only access")),
            Role::Customer => Err(Denied::Forbidden("only the desk's staff can do this")),
        }
    }
}

/// Which tickets a listing may return for an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confinement {
    /// Any ticket.
    None,
    /// Only this organisation's tickets.
    Organisation(i64),
    /// Only tickets this user raised.
    Requester(i64),
    /// No ticket (anonymous visitors).
    Nothing,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, org_id: Option<i64>, tier: Option<Tier>) -> Actor {
        Actor {
            user_id: 10,
            role,
            org_id,
            tier,
        }
    }

    const ACME_TICKET: TicketScope = TicketScope {
        org_id: Some(1),
        requester_id: 99,
    };

    #[test]
    fn mail_threads_to_a_ticket_for_its_people_and_staff() {
        let reply = Action::ReplyByMail(ACME_TICKET);
        let requester = Actor {
            user_id: 99,
            ..actor(Role::Customer, None, None)
        };
        assert_eq!(requester.authorize(reply), Ok(()));
        assert_eq!(
            actor(Role::Customer, Some(1), None).authorize(reply),
            Ok(())
        );
        assert_eq!(
            actor(Role::Customer, Some(2), None).authorize(reply),
            Err(Denied::Hidden)
        );
        assert_eq!(actor(Role::Auditor, None, None).authorize(reply), Ok(()));
    }

    #[test]
    fn only_the_requester_rates_satisfaction() {
        let rate = Action::RateSatisfaction(ACME_TICKET);
        let requester = Actor {
            user_id: 99,
            ..actor(Role::Customer, Some(1), None)
        };
        assert_eq!(requester.authorize(rate), Ok(()));
        let colleague = actor(Role::Customer, Some(1), None);
        assert!(matches!(
            colleague.authorize(rate),
            Err(Denied::Forbidden(_))
        ));
        let stranger = actor(Role::Customer, Some(2), None);
        assert_eq!(stranger.authorize(rate), Err(Denied::Hidden));
        let agent = actor(Role::Agent, None, Some(Tier::L1));
        assert!(matches!(agent.authorize(rate), Err(Denied::Forbidden(_))));
    }

    #[test]
    fn customers_see_only_their_organisation() {
        let acme = actor(Role::Customer, Some(1), None);
        let globex = actor(Role::Customer, Some(2), None);
        assert_eq!(acme.authorize(Action::ReadTicket(ACME_TICKET)), Ok(()));
        assert_eq!(
            globex.authorize(Action::ReadTicket(ACME_TICKET)),
            Err(Denied::Hidden)
        );
        assert_eq!(
            globex.authorize(Action::Reply(ACME_TICKET)),
            Err(Denied::Hidden)
        );
        let loner = actor(Role::Customer, None, None);
        assert_eq!(
            loner.authorize(Action::ReadTicket(ACME_TICKET)),
            Err(Denied::Hidden)
        );
        let own = TicketScope {
            org_id: None,
            requester_id: 10,
        };
        assert_eq!(loner.authorize(Action::ReadTicket(own)), Ok(()));
    }

    #[test]
    fn internal_notes_are_staff_only() {
        assert!(!actor(Role::Customer, Some(1), None).sees_internal());
        for role in [Role::Admin, Role::Manager, Role::Agent, Role::Auditor] {
            assert!(
                actor(role, None, Some(Tier::L1)).sees_internal(),
                "{role:?}"
            );
        }
        assert!(actor(Role::Customer, Some(1), None)
            .authorize(Action::AddInternalNote)
            .is_err());
    }

    #[test]
    fn auditors_read_but_never_write() {
        let auditor = actor(Role::Auditor, None, None);
        assert_eq!(auditor.authorize(Action::ReadTicket(ACME_TICKET)), Ok(()));
        for action in [
            Action::Triage,
            Action::Escalate,
            Action::CreateTicket,
            Action::Reply(ACME_TICKET),
            Action::Administer,
        ] {
            assert!(auditor.authorize(action).is_err(), "{action:?}");
        }
    }

    #[test]
    fn bug_reports_need_l3() {
        assert!(actor(Role::Agent, None, Some(Tier::L2))
            .authorize(Action::FileBugReport)
            .is_err());
        assert!(actor(Role::Agent, None, Some(Tier::L3))
            .authorize(Action::FileBugReport)
            .is_ok());
        assert!(actor(Role::Agent, None, Some(Tier::L4))
            .authorize(Action::FileBugReport)
            .is_ok());
    }

    #[test]
    fn only_admins_administer() {
        for role in Role::ALL {
            assert_eq!(
                actor(role, None, None)
                    .authorize(Action::Administer)
                    .is_ok(),
                role == Role::Admin
            );
        }
    }

    #[test]
    fn articles_reach_their_readers_only() {
        let scope = |visibility, published| {
            Action::ReadArticle(ArticleScope {
                visibility,
                published,
            })
        };
        let customer = actor(Role::Customer, Some(1), None);
        let l1 = actor(Role::Agent, None, Some(Tier::L1));
        let l3 = actor(Role::Agent, None, Some(Tier::L3));
        let auditor = actor(Role::Auditor, None, None);
        assert_eq!(customer.authorize(scope(Visibility::Public, true)), Ok(()));
        assert_eq!(
            customer.authorize(scope(Visibility::Public, false)),
            Err(Denied::Hidden)
        );
        assert_eq!(
            customer.authorize(scope(Visibility::Internal, true)),
            Err(Denied::Hidden)
        );
        assert_eq!(l1.authorize(scope(Visibility::Internal, true)), Ok(()));
        assert_eq!(
            l1.authorize(scope(Visibility::Tier(Tier::L3), true)),
            Err(Denied::Hidden)
        );
        assert_eq!(
            l3.authorize(scope(Visibility::Tier(Tier::L3), true)),
            Ok(())
        );
        assert_eq!(
            auditor.authorize(scope(Visibility::Tier(Tier::L4), true)),
            Ok(())
        );
        assert!(auditor.authorize(Action::EditArticles).is_err());
        assert!(l1.authorize(Action::EditArticles).is_ok());
        assert!(l1.authorize(Action::ManageKnowledge).is_err());
        // A draft or archived L3 article stays L3-only.
        assert_eq!(
            l1.authorize(scope(Visibility::Tier(Tier::L3), false)),
            Err(Denied::Hidden)
        );
        assert_eq!(
            l3.authorize(scope(Visibility::Tier(Tier::L3), false)),
            Ok(())
        );
        // An agent without a tier reads as L0, as search finds for them.
        let untiered = actor(Role::Agent, None, None);
        assert_eq!(
            untiered.authorize(scope(Visibility::Tier(Tier::L0), true)),
            Ok(())
        );
        assert_eq!(
            untiered.authorize(scope(Visibility::Tier(Tier::L1), true)),
            Err(Denied::Hidden)
        );
    }

    #[test]
    fn search_reach_follows_the_same_rules() {
        let customer = actor(Role::Customer, Some(7), None).search_reach();
        assert_eq!(customer.tickets, Confinement::Organisation(7));
        assert_eq!(customer.articles, ArticleReach::Public);
        assert!(!customer.internal && !customer.records);
        let l2 = actor(Role::Agent, None, Some(Tier::L2)).search_reach();
        assert_eq!(l2.articles, ArticleReach::UpToTier(Tier::L2));
        assert!(l2.internal && l2.records);
        assert_eq!(l2.tickets, Confinement::None);
        let manager = actor(Role::Manager, None, None).search_reach();
        assert_eq!(manager.articles, ArticleReach::All);
        assert_eq!(SearchReach::ANONYMOUS.tickets, Confinement::Nothing);
    }
}
