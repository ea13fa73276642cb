//! What wraps every request: the log line, security headers, and the client's address (read by
//! handlers that throttle or keep evidence).

pub mod client_address;
pub mod request_log;
pub mod security_headers;
