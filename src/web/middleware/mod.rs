//! What wraps every request: the log line, security headers, the re-issued session cookie, and
//! the client's address (read by handlers that throttle or keep evidence).

pub mod client_address;
pub mod request_log;
pub mod security_headers;
pub mod session_refresh;
