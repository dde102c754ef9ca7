//! Transports: connections to brokers (and later devices), delivery and
//! reconnects. A transport knows bytes and topics, never message types.

pub mod mqtt;
pub mod mqtt_conn;
pub mod mqtt_listener;
pub mod poll;
