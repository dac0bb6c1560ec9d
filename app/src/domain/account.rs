//! Rules for account credentials (dashboard login and `hookrelay user create`).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("must be an email address like name@example.com")]
    Malformed,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least {min} characters")]
    TooShort { min: usize },
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
}

pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 1024;

/// Checks an email's shape and returns it trimmed and lower-cased (emails
/// are compared case-insensitively).
pub fn validate_email(email: &str) -> Result<String, EmailError> {
    let email = email.trim();
    if email.chars().count() > EMAIL_MAX {
        return Err(EmailError::TooLong { max: EMAIL_MAX });
    }
    let (local, domain) = email.split_once('@').ok_or(EmailError::Malformed)?;
    let well_formed = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !well_formed {
        return Err(EmailError::Malformed);
    }
    Ok(email.to_lowercase())
}

pub fn validate_password(password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        Err(PasswordError::TooShort { min: PASSWORD_MIN })
    } else if n > PASSWORD_MAX {
        Err(PasswordError::TooLong { max: PASSWORD_MAX })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(validate_email(" Ops@Example.COM ").as_deref(), Ok("ops@example.com"));
        for bad in ["", "no-at", "@example.com", "a@", "a@b@c", "a b@c.d", "a@.com"] {
            assert_eq!(validate_email(bad), Err(EmailError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn password_length_is_bounded() {
        assert!(validate_password("short").is_err());
        assert!(validate_password("long enough").is_ok());
        assert!(validate_password(&"x".repeat(PASSWORD_MAX + 1)).is_err());
    }
}
