//! The JSON shapes opsdesk speaks (serde and OpenAPI types): what the API reads and answers,
//! what the application layer takes as input, and what the CLI and bench send.
//!
//! The lowest floor of the server: nothing here imports another module of the server, so every
//! edge and the application layer can name these types without importing each other. Types
//! convert from store records (`From`) and carry no behaviour beyond their shape.

pub mod desk;
pub mod incidents;
pub mod knowledge;
pub mod mail;
pub mod runbooks;
