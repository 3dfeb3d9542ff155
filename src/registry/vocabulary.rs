//! The registry's vocabulary: the kinds of objects it publishes and what a
//! change did to one. Each wire string (as stored in the audit log and the
//! change feed, and as published) is spelled here and nowhere else.

/// The kinds of objects the registry publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectType {
    Municipality,
    Region,
    Province,
    Cooperation,
    Role,
    FrameworkContract,
    CareForm,
    Provider,
}

impl ObjectType {
    pub const ALL: [ObjectType; 8] = [
        ObjectType::Municipality,
        ObjectType::Region,
        ObjectType::Province,
        ObjectType::Cooperation,
        ObjectType::Role,
        ObjectType::FrameworkContract,
        ObjectType::CareForm,
        ObjectType::Provider,
    ];

    /// The name used on the wire: the GraphQL type name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ObjectType::Municipality => "Municipality",
            ObjectType::Region => "Region",
            ObjectType::Province => "Province",
            ObjectType::Cooperation => "Cooperation",
            ObjectType::Role => "Role",
            ObjectType::FrameworkContract => "FrameworkContract",
            ObjectType::CareForm => "CareForm",
            ObjectType::Provider => "Provider",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// What a change did to its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeOperation {
    Created,
    Updated,
    /// Its validity was ended (`validTo` set or moved).
    Ended,
    Deleted,
}

impl ChangeOperation {
    pub const ALL: [ChangeOperation; 4] =
        [ChangeOperation::Created, ChangeOperation::Updated, ChangeOperation::Ended, ChangeOperation::Deleted];

    pub const fn as_str(self) -> &'static str {
        match self {
            ChangeOperation::Created => "CREATED",
            ChangeOperation::Updated => "UPDATED",
            ChangeOperation::Ended => "ENDED",
            ChangeOperation::Deleted => "DELETED",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// These strings are stored in the database and published: changing one
    /// is a breaking change for every client and needs a migration.
    #[test]
    fn wire_strings_are_pinned() {
        let types: Vec<&str> = ObjectType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(
            types,
            ["Municipality", "Region", "Province", "Cooperation", "Role", "FrameworkContract", "CareForm", "Provider"]
        );
        let operations: Vec<&str> = ChangeOperation::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(operations, ["CREATED", "UPDATED", "ENDED", "DELETED"]);
        for t in ObjectType::ALL {
            assert_eq!(ObjectType::parse(t.as_str()), Some(t));
        }
        for o in ChangeOperation::ALL {
            assert_eq!(ChangeOperation::parse(o.as_str()), Some(o));
        }
    }
}
