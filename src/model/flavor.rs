//! The server family: MySQL or MariaDB. It decides the GTID format, a few type rules and
//! the `source` block's connector name.

/// The server family, which decides GTID formats and a few type rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    Mysql,
    Mariadb,
}

impl Flavor {
    pub fn connector(self) -> &'static str {
        match self {
            Flavor::Mysql => "mysql",
            Flavor::Mariadb => "mariadb",
        }
    }
}
