//! Ticket arrival forecasts and staffing: additive Holt-Winters with a weekly season on daily
//! counts (smoothing parameters fitted by least squares over one-step-ahead errors), a
//! back-test on the last weeks so the error is shown next to the forecast, and Erlang C for
//! the agents an hour's arrivals need to meet a response target.

/// Smoothing parameters of Holt-Winters: level, trend and season.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Smoothing {
    /// Level (0–1).
    pub alpha: f64,
    /// Trend (0–1).
    pub beta: f64,
    /// Season (0–1).
    pub gamma: f64,
}

/// A fitted model's one-step-ahead squared error and its forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// The parameters chosen.
    pub smoothing: Smoothing,
    /// The next `horizon` values (never below zero).
    pub values: Vec<f64>,
    /// Root mean squared one-step-ahead error over the history (the model's own noise).
    pub rmse: f64,
}

/// Runs additive Holt-Winters over `series` with `season` points per season; answers the
/// sum of squared one-step-ahead errors and the next `horizon` values. Needs two seasons.
fn run(series: &[f64], season: usize, s: Smoothing, horizon: usize) -> Option<(f64, Vec<f64>)> {
    if season == 0 || series.len() < 2 * season {
        return None;
    }
    let first: f64 = series[..season].iter().sum::<f64>() / season as f64;
    let second: f64 = series[season..2 * season].iter().sum::<f64>() / season as f64;
    let mut level = first;
    let mut trend = (second - first) / season as f64;
    let mut seasonal: Vec<f64> = series[..season].iter().map(|v| v - first).collect();
    let mut sse = 0.0;
    for (t, &y) in series.iter().enumerate().skip(season) {
        let i = t % season;
        let predicted = level + trend + seasonal[i];
        sse += (y - predicted).powi(2);
        let previous_level = level;
        level = s.alpha * (y - seasonal[i]) + (1.0 - s.alpha) * (level + trend);
        trend = s.beta * (level - previous_level) + (1.0 - s.beta) * trend;
        seasonal[i] = s.gamma * (y - level) + (1.0 - s.gamma) * seasonal[i];
    }
    let n = series.len();
    let values = (1..=horizon)
        .map(|h| (level + h as f64 * trend + seasonal[(n + h - 1) % season]).max(0.0))
        .collect();
    Some((sse, values))
}

/// Fits the smoothing parameters on a grid (steps of 0.1; trend at most 0.3, which keeps a
/// short history from extrapolating noise) and forecasts `horizon` points. `None` with less
/// than two seasons of history.
pub fn holt_winters(series: &[f64], season: usize, horizon: usize) -> Option<Forecast> {
    let grid = |max: f64| {
        (0..=10)
            .map(|i| f64::from(i) / 10.0)
            .filter(move |v| *v <= max)
    };
    let mut best: Option<(f64, Smoothing, Vec<f64>)> = None;
    for alpha in grid(1.0).filter(|a| *a > 0.0) {
        for beta in grid(0.3) {
            for gamma in grid(1.0) {
                let s = Smoothing { alpha, beta, gamma };
                let (sse, values) = run(series, season, s, horizon)?;
                if best.as_ref().is_none_or(|(b, _, _)| sse < *b) {
                    best = Some((sse, s, values));
                }
            }
        }
    }
    let (sse, smoothing, values) = best?;
    let fitted = (series.len() - season) as f64;
    Some(Forecast {
        smoothing,
        values,
        rmse: (sse / fitted).sqrt(),
    })
}

/// How a forecast made `holdout` points ago fared against what then happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    /// What the model, fitted on the history before the holdout, predicted.
    pub predicted: Vec<f64>,
    /// What happened.
    pub actual: Vec<f64>,
    /// Mean absolute error.
    pub mae: f64,
    /// Mean absolute percentage error over the points that were not zero (`None` if all were).
    pub mape: Option<f64>,
}

/// Fits on all but the last `holdout` points and compares its forecast with them. `None` when
/// the rest is shorter than two seasons.
pub fn backtest(series: &[f64], season: usize, holdout: usize) -> Option<Backtest> {
    let cut = series.len().checked_sub(holdout)?;
    let forecast = holt_winters(&series[..cut], season, holdout)?;
    let actual = series[cut..].to_vec();
    let mae = forecast
        .values
        .iter()
        .zip(&actual)
        .map(|(p, a)| (p - a).abs())
        .sum::<f64>()
        / holdout.max(1) as f64;
    let ratios: Vec<f64> = forecast
        .values
        .iter()
        .zip(&actual)
        .filter(|(_, a)| **a != 0.0)
        .map(|(p, a)| ((p - a) / a).abs())
        .collect();
    let mape =
        (!ratios.is_empty()).then(|| 100.0 * ratios.iter().sum::<f64>() / ratios.len() as f64);
    Some(Backtest {
        predicted: forecast.values,
        actual,
        mae,
        mape,
    })
}

/// Erlang C: the probability that an arrival waits, with `agents` serving `traffic` Erlangs
/// (arrival rate × handling time). 1 when the agents cannot keep up.
pub fn erlang_c(agents: u32, traffic: f64) -> f64 {
    if traffic <= 0.0 {
        return 0.0;
    }
    let n = f64::from(agents);
    if n <= traffic {
        return 1.0;
    }
    // Erlang B by its recursion (stable for large counts), then C from B.
    let mut b = 1.0;
    for k in 1..=agents {
        b = traffic * b / (f64::from(k) + traffic * b);
    }
    n * b / (n - traffic * (1.0 - b))
}

/// The share of arrivals answered within `target_minutes` with `agents` on duty.
pub fn service_level(agents: u32, per_hour: f64, handle_minutes: f64, target_minutes: f64) -> f64 {
    if per_hour <= 0.0 {
        return 1.0;
    }
    let traffic = per_hour * handle_minutes / 60.0;
    let waits = erlang_c(agents, traffic);
    let n = f64::from(agents);
    if n <= traffic {
        return 0.0;
    }
    1.0 - waits * (-(n - traffic) * target_minutes / handle_minutes).exp()
}

/// The fewest agents that answer at least `goal` (0–1) of `per_hour` arrivals, each taking
/// `handle_minutes`, within `target_minutes` (at most 1,000).
pub fn agents_needed(per_hour: f64, handle_minutes: f64, target_minutes: f64, goal: f64) -> u32 {
    if per_hour <= 0.0 || handle_minutes <= 0.0 {
        return 0;
    }
    (1..=1000)
        .find(|n| service_level(*n, per_hour, handle_minutes, target_minutes) >= goal)
        .unwrap_or(1000)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_pure_weekly_pattern_is_forecast_exactly() {
        let week = [50.0, 60.0, 55.0, 52.0, 40.0, 10.0, 5.0];
        let series: Vec<f64> = week.iter().cycle().take(7 * 8).copied().collect();
        let f = holt_winters(&series, 7, 14).unwrap();
        for (i, v) in f.values.iter().enumerate() {
            assert!((v - week[i % 7]).abs() < 1e-6, "day {i}: {v}");
        }
        assert!(f.rmse < 1e-6);
    }

    #[test]
    fn a_trend_is_carried_forward() {
        // +1 a day on top of the weekly pattern.
        let week = [20.0, 30.0, 25.0, 22.0, 18.0, 5.0, 3.0];
        let series: Vec<f64> = (0..70).map(|d| week[d % 7] + d as f64).collect();
        let f = holt_winters(&series, 7, 7).unwrap();
        for (h, v) in f.values.iter().enumerate() {
            let expected = week[(70 + h) % 7] + (70 + h) as f64;
            assert!((v - expected).abs() < 1.0, "h {h}: {v} vs {expected}");
        }
    }

    #[test]
    fn too_little_history_gives_no_forecast_and_the_backtest_is_honest() {
        assert!(holt_winters(&[1.0; 13], 7, 7).is_none());
        let week = [50.0, 60.0, 55.0, 52.0, 40.0, 10.0, 5.0];
        let mut series: Vec<f64> = week.iter().cycle().take(7 * 6).copied().collect();
        // The last week doubles: the back-test must show the miss.
        for v in series.iter_mut().skip(35) {
            *v *= 2.0;
        }
        let b = backtest(&series, 7, 7).unwrap();
        assert_eq!(b.actual.len(), 7);
        assert!((b.mape.unwrap() - 50.0).abs() < 1e-6, "{:?}", b.mape);
        assert!((b.mae - 272.0 / 7.0).abs() < 1e-6, "{}", b.mae);
    }

    #[test]
    fn erlang_c_matches_the_textbook() {
        // 2 Erlangs on 3 agents: P(wait) = 4/9.
        assert!((erlang_c(3, 2.0) - 4.0 / 9.0).abs() < 1e-9);
        assert_eq!(erlang_c(2, 2.0), 1.0);
        assert_eq!(erlang_c(5, 0.0), 0.0);
        // 100 calls an hour, 3 minutes each (5 Erlangs), 80 % within 20 s (1/3 min): the
        // classic example needs 8 agents (7 answer about 72 %).
        assert_eq!(agents_needed(100.0, 3.0, 1.0 / 3.0, 0.8), 8);
        assert!(service_level(7, 100.0, 3.0, 1.0 / 3.0) < 0.8);
        assert_eq!(agents_needed(0.0, 3.0, 1.0, 0.8), 0);
    }
}
