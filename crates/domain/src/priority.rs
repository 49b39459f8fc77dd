//! Priority from impact × urgency, the ITIL way.

use crate::Invalid;

macro_rules! three_level {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            /// Low.
            Low,
            /// Medium.
            Medium,
            /// High.
            High,
        }

        impl $name {
            /// Parses `low`, `medium` or `high`.
            pub fn parse(raw: &str) -> Result<Self, Invalid> {
                match raw.trim().to_lowercase().as_str() {
                    "low" => Ok(Self::Low),
                    "medium" => Ok(Self::Medium),
                    "high" => Ok(Self::High),
                    _ => Err(Invalid::new(
                        $field,
                        format!("'{raw}' is not one of low, medium, high"),
                    )),
                }
            }

            /// The stable name.
            pub fn as_str(self) -> &'static str {
                match self {
                    Self::Low => "low",
                    Self::Medium => "medium",
                    Self::High => "high",
                }
            }
        }
    };
}

three_level!(
    /// How much of the customer's business is affected.
    Impact,
    "impact"
);
three_level!(
    /// How quickly the customer's business needs it fixed.
    Urgency,
    "urgency"
);

/// The order in which work is taken, urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Priority {
    /// P1: business stopped.
    Urgent,
    /// P2: business hurt.
    High,
    /// P3: the default.
    Normal,
    /// P4: can wait.
    Low,
}

impl Priority {
    /// Every priority, urgent first.
    pub const ALL: [Priority; 4] = [
        Priority::Urgent,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];

    /// The priority matrix: impact × urgency → priority.
    ///
    /// | impact \ urgency | low    | medium | high   |
    /// |------------------|--------|--------|--------|
    /// | high             | normal | high   | urgent |
    /// | medium           | low    | normal | high   |
    /// | low              | low    | low    | normal |
    pub fn from_matrix(impact: Impact, urgency: Urgency) -> Self {
        use Impact as I;
        use Urgency as U;
        match (impact, urgency) {
            (I::High, U::High) => Priority::Urgent,
            (I::High, U::Medium) | (I::Medium, U::High) => Priority::High,
            (I::High, U::Low) | (I::Medium, U::Medium) | (I::Low, U::High) => Priority::Normal,
            (I::Medium, U::Low) | (I::Low, U::Medium) | (I::Low, U::Low) => Priority::Low,
        }
    }

    /// Parses `urgent`, `high`, `normal` or `low` for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == raw.trim().to_lowercase())
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!("'{raw}' is not one of urgent, high, normal, low"),
                )
            })
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    /// Sort rank, 1 (urgent) to 4 (low): queues sort ascending on it.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Urgent => 1,
            Priority::High => 2,
            Priority::Normal => 3,
            Priority::Low => 4,
        }
    }

    /// The priority of a stored rank.
    pub fn from_rank(rank: i64) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|p| p.rank() == rank)
            .ok_or_else(|| Invalid::new("priority", format!("{rank} is not a priority rank")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_corners_and_diagonal() {
        assert_eq!(
            Priority::from_matrix(Impact::High, Urgency::High),
            Priority::Urgent
        );
        assert_eq!(
            Priority::from_matrix(Impact::Low, Urgency::Low),
            Priority::Low
        );
        assert_eq!(
            Priority::from_matrix(Impact::Medium, Urgency::Medium),
            Priority::Normal
        );
        assert_eq!(
            Priority::from_matrix(Impact::High, Urgency::Low),
            Priority::Normal
        );
        assert_eq!(
            Priority::from_matrix(Impact::Low, Urgency::High),
            Priority::Normal
        );
    }

    #[test]
    fn matrix_is_monotonic_in_both_axes() {
        let levels_i = [Impact::Low, Impact::Medium, Impact::High];
        let levels_u = [Urgency::Low, Urgency::Medium, Urgency::High];
        for i in 0..3 {
            for u in 0..3 {
                let here = Priority::from_matrix(levels_i[i], levels_u[u]).rank();
                if i < 2 {
                    assert!(Priority::from_matrix(levels_i[i + 1], levels_u[u]).rank() <= here);
                }
                if u < 2 {
                    assert!(Priority::from_matrix(levels_i[i], levels_u[u + 1]).rank() <= here);
                }
            }
        }
    }

    #[test]
    fn matrix_is_symmetric() {
        let pairs = [
            (Impact::Low, Urgency::Low),
            (Impact::Medium, Urgency::Medium),
            (Impact::High, Urgency::High),
        ];
        for (i, _) in pairs {
            for (_, u) in pairs {
                let swapped_i = Impact::parse(u.as_str()).unwrap_or(Impact::Low);
                let swapped_u = Urgency::parse(i.as_str()).unwrap_or(Urgency::Low);
                assert_eq!(
                    Priority::from_matrix(i, u),
                    Priority::from_matrix(swapped_i, swapped_u)
                );
            }
        }
    }

    #[test]
    fn names_and_ranks_round_trip() {
        for p in Priority::ALL {
            assert_eq!(Priority::parse("priority", p.as_str()), Ok(p));
            assert_eq!(Priority::from_rank(p.rank()), Ok(p));
        }
        assert!(Priority::parse("priority", "p0").is_err());
        assert!(Impact::parse("huge").is_err());
    }
}
