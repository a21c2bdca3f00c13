//! Learning curves: loss and accuracy per epoch, on the training photos and on the held-back
//! validation photos (after cross-validation, the folds' mean in a band of one standard
//! deviation), drawn as two small SVG charts that scale with the screen; and the comparison's
//! ways on one pair of such charts.

use crate::text::tr;
use headstart_core::training::{EpochReport, Metrics};
use headstart_text::Arg;
use yew::prelude::*;

/// The drawing area of one chart, in SVG units.
const WIDTH: f32 = 320.0;
const HEIGHT: f32 = 180.0;
/// Room for the axis labels.
const LEFT: f32 = 44.0;
const BOTTOM: f32 = 36.0;
const TOP: f32 = 12.0;
const RIGHT: f32 = 12.0;

/// One chart: a metric over epochs, for training and validation.
struct Chart {
    title: String,
    /// The value drawn at the top of the y axis (the bottom is 0).
    top: f32,
    label: fn(f32) -> String,
    value: fn(&Metrics) -> f32,
}

/// One line of a chart: a CSS class, the way it belongs to (comparison charts), the metrics
/// of each epoch it has, and for a mean over folds their spread at each of those epochs.
struct Line {
    class: String,
    mode: Option<&'static str>,
    points: Vec<(usize, Metrics)>,
    spread: Vec<Metrics>,
}

/// The loss and accuracy charts over `lines`, the loss axis up to the largest loss drawn.
fn charts(lines: &[Line]) -> [Chart; 2] {
    let largest_loss = lines
        .iter()
        .flat_map(|line| &line.points)
        .map(|(_, m)| m.loss)
        .fold(0.0f32, f32::max);
    [
        Chart {
            title: tr!("curves-loss"),
            top: if largest_loss > 0.0 {
                largest_loss
            } else {
                1.0
            },
            label: |v| tr!("number", value = Arg::decimal(v, 2)),
            value: |m| m.loss,
        },
        Chart {
            title: tr!("curves-accuracy"),
            top: 1.0,
            label: |v| tr!("percent", share = Arg::percent(v)),
            value: |m| m.accuracy,
        },
    ]
}

/// Both charts, with the x axis running to `planned_epochs` so progress shows as it trains, and
/// the epoch whose weights early stopping kept marked.
pub fn view_curves(
    test_id: &'static str,
    history: &[EpochReport],
    planned_epochs: usize,
    kept_epoch: Option<usize>,
) -> Html {
    if history.is_empty() {
        return html! {};
    }
    let line = |class: &str, pick: fn(&EpochReport) -> Option<Metrics>| Line {
        class: class.to_string(),
        mode: None,
        points: history
            .iter()
            .filter_map(|r| Some((r.epoch, pick(r)?)))
            .collect(),
        spread: Vec::new(),
    };
    let validation = Line {
        spread: history.iter().filter_map(|r| r.validation_spread).collect(),
        ..line("validation", |r| r.validation)
    };
    let lines = [line("train", |r| Some(r.train)), validation];
    let folds_band = !lines[1].spread.is_empty();
    let epochs = planned_epochs.max(history.len()).max(2);
    html! {
        <figure class="curves" data-testid={test_id} data-epochs={history.len().to_string()}
            data-stopped-epoch={kept_epoch.map(|_| history.len().to_string())}
            data-best-epoch={kept_epoch.map(|epoch| epoch.to_string())}>
            { for charts(&lines).iter().map(|chart| view_chart(chart, &lines, epochs, kept_epoch)) }
            <figcaption>
                <span class="key train">{ tr!("curves-training") }</span>
                if folds_band {
                    <span class="key validation">{ tr!("curves-validation-folds") }</span>
                } else {
                    <span class="key validation">{ tr!("curves-validation") }</span>
                }
                if let Some(epoch) = kept_epoch {
                    <span class="key kept">{ tr!("curves-kept", epoch = epoch) }</span>
                }
            </figcaption>
        </figure>
    }
}

/// The comparison's ways on one pair of charts: each way's validation loss and accuracy (its
/// training ones when it held no photo back), one line per way, `ways` as `(mode name, label,
/// history)`.
pub fn view_ways_curves(
    ways: &[(&'static str, String, &[EpochReport])],
    planned_epochs: usize,
) -> Html {
    let lines: Vec<Line> = ways
        .iter()
        .filter(|(_, _, history)| !history.is_empty())
        .map(|(mode, _, history)| Line {
            class: format!("way way-{mode}"),
            mode: Some(mode),
            points: history
                .iter()
                .map(|r| (r.epoch, r.validation.unwrap_or(r.train)))
                .collect(),
            spread: Vec::new(),
        })
        .collect();
    if lines.is_empty() {
        return html! {};
    }
    let ran = lines.iter().map(|l| l.points.len()).max().unwrap_or(0);
    let epochs = planned_epochs.max(ran).max(2);
    html! {
        <figure class="curves" data-testid="compare-curves" data-epochs={ran.to_string()}>
            { for charts(&lines).iter().map(|chart| view_chart(chart, &lines, epochs, None)) }
            <figcaption>
                { for ways.iter().filter(|(_, _, h)| !h.is_empty()).map(|(mode, label, _)| html! {
                    <span class={format!("key way-{mode}")}>{ label.clone() }</span>
                }) }
                <span>{ tr!("curves-ways-validation") }</span>
            </figcaption>
        </figure>
    }
}

fn view_chart(chart: &Chart, lines: &[Line], epochs: usize, kept_epoch: Option<usize>) -> Html {
    let x = |epoch: usize| LEFT + (epoch - 1) as f32 / (epochs - 1) as f32 * (WIDTH - LEFT - RIGHT);
    let y =
        |value: f32| TOP + (1.0 - (value / chart.top).clamp(0.0, 1.0)) * (HEIGHT - TOP - BOTTOM);
    let points = |line: &Line| -> String {
        line.points
            .iter()
            .map(|(epoch, m)| format!("{:.1},{:.1}", x(*epoch), y((chart.value)(m))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Mean ± spread: along the top edge, then back along the bottom one.
    let band = |line: &Line| -> Option<String> {
        if line.spread.len() != line.points.len() || line.spread.is_empty() {
            return None;
        }
        let edge = |sign: f32| {
            let at = |((epoch, mean), spread): (&(usize, Metrics), &Metrics)| {
                let value = (chart.value)(mean) + sign * (chart.value)(spread);
                format!("{:.1},{:.1}", x(*epoch), y(value))
            };
            line.points
                .iter()
                .zip(&line.spread)
                .map(at)
                .collect::<Vec<_>>()
        };
        let mut outline = edge(1.0);
        outline.extend(edge(-1.0).into_iter().rev());
        Some(outline.join(" "))
    };
    let (bottom, right) = (HEIGHT - BOTTOM, WIDTH - RIGHT);
    html! {
        <svg class="chart" viewBox={format!("0 0 {WIDTH} {HEIGHT}")} role="img" aria-label={chart.title.clone()}>
            <text class="title" x={LEFT.to_string()} y="9">{ chart.title.clone() }</text>
            <line class="axis" x1={LEFT.to_string()} y1={TOP.to_string()} x2={LEFT.to_string()} y2={bottom.to_string()} />
            <line class="axis" x1={LEFT.to_string()} y1={bottom.to_string()} x2={right.to_string()} y2={bottom.to_string()} />
            <text class="tick" x={(LEFT - 4.0).to_string()} y={(TOP + 4.0).to_string()} text-anchor="end">{ (chart.label)(chart.top) }</text>
            <text class="tick" x={(LEFT - 4.0).to_string()} y={bottom.to_string()} text-anchor="end">{ (chart.label)(0.0) }</text>
            <text class="tick" x={LEFT.to_string()} y={(bottom + 14.0).to_string()} text-anchor="middle">{ tr!("number", value = 1_usize) }</text>
            <text class="tick" x={right.to_string()} y={(bottom + 14.0).to_string()} text-anchor="middle">{ tr!("number", value = epochs) }</text>
            <text class="tick" x={((LEFT + right) / 2.0).to_string()} y={(bottom + 28.0).to_string()} text-anchor="middle">{ tr!("curves-epoch") }</text>
            if let Some(epoch) = kept_epoch {
                <line class="kept" x1={x(epoch).to_string()} y1={TOP.to_string()} x2={x(epoch).to_string()} y2={bottom.to_string()} />
            }
            { for lines.iter().filter_map(|line| Some(html! {
                <polygon class={format!("band {}", line.class)} points={band(line)?} />
            })) }
            { for lines.iter().map(|line| html! {
                <polyline class={format!("line {}", line.class)} data-mode={line.mode}
                    data-epochs={line.points.len().to_string()} points={points(line)} />
            }) }
        </svg>
    }
}
