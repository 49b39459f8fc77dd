//! E-mail at the edge: reading inbound messages ([`parse`]), fetching mailboxes over IMAP
//! ([`fetch`]), sending over SMTP ([`send`]), the notifier that turns events into mail
//! ([`notify`]) and the templates admins edit ([`templates`]). Threading, loop detection and
//! quoting rules are the domain's (`opsdesk_domain::mail`); storage is the store's.

pub mod fetch;
pub mod notify;
pub mod parse;
pub mod send;
pub mod templates;
