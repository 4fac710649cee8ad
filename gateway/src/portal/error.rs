//! Refusals of the portal API: an [`ApiError`] for the app (a code and
//! words for the user) with its HTTP status, and a detail for the log
//! (never a password or a token).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::portal::{ApiError, ErrorCode};

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub error: ApiError,
    /// For the log.
    pub detail: String,
}

impl ApiFailure {
    pub fn new(code: ErrorCode, message: String, detail: String) -> Self {
        Self {
            error: ApiError { code, message },
            detail,
        }
    }

    /// A refusal whose log line says what the app is told.
    pub fn plain(code: ErrorCode, message: &str) -> Self {
        Self::new(code, message.to_owned(), message.to_owned())
    }

    /// The HTTP status of the code.
    pub fn status(&self) -> StatusCode {
        match self.error.code {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::ChallengeExpired | ErrorCode::LoginFailed | ErrorCode::Unauthorized => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::LockedOut => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::WrongClientKind
            | ErrorCode::NoLicense
            | ErrorCode::InternetRegistrationDisabled
            | ErrorCode::VersionTooOld
            | ErrorCode::DeskshareUser => StatusCode::FORBIDDEN,
            ErrorCode::CodecNotSupported => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::NotRegistered | ErrorCode::NoCall => StatusCode::CONFLICT,
            ErrorCode::Other => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        (self.status(), Json(self.error)).into_response()
    }
}
