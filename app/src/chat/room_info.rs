//! A room's settings as the header and its "About" dialog show them: what the room's
//! page read, then every `room_updated` notice applied since, in order ([`merge`] keeps
//! their sum in the timeline). Also what a moderator's edit of them changes
//! ([`RoomInfo::changes_to`]), so that only what differs is sent. Pure logic, no I/O.

use protocol::RoomChanges;

/// A room's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomInfo {
    /// The name (for a direct message, the other person's).
    pub name: String,
    pub topic: String,
    pub description: String,
    pub private: bool,
    pub archived: bool,
}

impl RoomInfo {
    /// These settings with `changes` applied.
    pub fn with(&self, changes: &RoomChanges) -> RoomInfo {
        RoomInfo {
            name: changes.name.clone().unwrap_or_else(|| self.name.clone()),
            topic: changes.topic.clone().unwrap_or_else(|| self.topic.clone()),
            description: changes
                .description
                .clone()
                .unwrap_or_else(|| self.description.clone()),
            private: changes.private.unwrap_or(self.private),
            archived: changes.archived.unwrap_or(self.archived),
        }
    }

    /// What turns these settings into `wanted`: only the fields that differ (text
    /// compared trimmed, as the server stores it).
    pub fn changes_to(&self, wanted: &RoomInfo) -> RoomChanges {
        let differs = |a: &str, b: &str| (a.trim() != b.trim()).then(|| b.trim().to_string());
        RoomChanges {
            name: differs(&self.name, &wanted.name),
            topic: differs(&self.topic, &wanted.topic),
            description: differs(&self.description, &wanted.description),
            private: (self.private != wanted.private).then_some(wanted.private),
            archived: (self.archived != wanted.archived).then_some(wanted.archived),
        }
    }
}

/// Folds a later change into `into`: each field it sets replaces what was there.
pub fn merge(into: &mut RoomChanges, later: &RoomChanges) {
    fn take<T: Clone>(field: &mut Option<T>, later: &Option<T>) {
        if later.is_some() {
            field.clone_from(later);
        }
    }
    take(&mut into.name, &later.name);
    take(&mut into.topic, &later.topic);
    take(&mut into.description, &later.description);
    take(&mut into.private, &later.private);
    take(&mut into.archived, &later.archived);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design() -> RoomInfo {
        RoomInfo {
            name: "design".into(),
            topic: "pixels".into(),
            description: String::new(),
            private: false,
            archived: false,
        }
    }

    #[test]
    fn a_later_change_replaces_only_the_fields_it_sets() {
        let mut sum = RoomChanges {
            name: Some("design".into()),
            topic: Some("pixels".into()),
            ..RoomChanges::default()
        };
        merge(
            &mut sum,
            &RoomChanges {
                topic: Some(String::new()),
                archived: Some(true),
                ..RoomChanges::default()
            },
        );
        assert_eq!(sum.name.as_deref(), Some("design"));
        assert_eq!(
            sum.topic.as_deref(),
            Some(""),
            "a cleared topic is a change too"
        );
        assert_eq!(sum.archived, Some(true));
        assert_eq!(sum.private, None);
    }

    #[test]
    fn changes_apply_over_the_page() {
        let shown = design().with(&RoomChanges {
            topic: Some(String::new()),
            private: Some(true),
            ..RoomChanges::default()
        });
        assert_eq!(shown.name, "design");
        assert_eq!(shown.topic, "");
        assert!(shown.private);
        assert!(!shown.archived);
    }

    #[test]
    fn an_edit_sends_only_what_differs() {
        let now = design();
        let mut wanted = now.clone();
        assert!(now.changes_to(&wanted).is_empty());
        wanted.topic = "  pixels ".into();
        assert!(
            now.changes_to(&wanted).is_empty(),
            "spaces around are not a change"
        );
        wanted.description = "Where we argue about fonts.".into();
        wanted.private = true;
        let changes = now.changes_to(&wanted);
        assert_eq!(
            changes.description.as_deref(),
            Some("Where we argue about fonts.")
        );
        assert_eq!(changes.private, Some(true));
        assert_eq!(changes.name, None);
        assert_eq!(changes.topic, None);
        // Applying what is sent gives what was wanted.
        assert_eq!(now.with(&changes).description, wanted.description);
    }
}
