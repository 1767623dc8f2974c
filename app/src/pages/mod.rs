//! Pages, one module each.

pub mod admin;
pub mod avatar_setting;
pub mod chat;
pub mod home;
pub mod login;
pub mod not_found;
pub mod password;
pub mod settings;
pub mod signup;
pub mod split;
