use super::*;

fn speakers(t: &Transcript) -> Vec<Speaker> {
    t.turns.iter().map(|x| x.speaker).collect()
}

#[test]
fn text_labels_in_both_scripts_and_english() {
    let t = parse(
        "# dpd: 7\n坐席：您好\n客戶：是我\nA: hi\nCustomer: yes\n第三方：他不在",
        Format::Text,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.dpd, Some(7));
    assert_eq!(
        speakers(&t),
        vec![
            Speaker::Agent,
            Speaker::Customer,
            Speaker::Agent,
            Speaker::Customer,
            Speaker::ThirdParty
        ]
    );
}

#[test]
fn vtt_voice_tags_and_srt_labels() {
    let vtt = "WEBVTT\n\nNOTE dpd: 12\n\n00:00:01.000 --> 00:00:02.500\n<v 坐席>您好\n\n00:00:03.000 --> 00:00:04.000\n<v 客戶>是我\n";
    let t = parse(vtt, Format::Vtt).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.dpd, Some(12));
    assert_eq!(t.turns.len(), 2);
    assert_eq!(t.turns.first().and_then(|x| x.start), Some(1.0));
    let srt = "1\n00:00:01,000 --> 00:00:02,000\n坐席：您好\n\n2\n00:00:02,000 --> 00:00:03,000\n客户：嗯\n";
    let t = parse(srt, Format::Srt).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.turns.len(), 2);
}

#[test]
fn unlabeled_first_line_is_an_error_with_its_line_in_chinese() {
    let e = parse("\n你好", Format::Text).err();
    assert!(e
        .as_ref()
        .is_some_and(|e| e.message.contains("第 2 行没有说话人标签")));
    assert_eq!(e.and_then(|e| e.location).and_then(|l| l.line), Some(2));
}

#[test]
fn a_text_export_with_bom_crlf_times_and_a_metadata_header() {
    let text = "\u{feff}# dpd: 12\r\n# 坐席: A1023\r\n# 坐席姓名: 王敏\r\n# team: 二组\r\n# date: 2026-12-01T10:30:00+08:00\r\n# 方向: 呼出\r\n# 活动: 双十二回访\r\n[00:01] 坐席：您好，请问是刘洋吗？\r\n[00:04] 客户：是我\r\n00:00:09 坐席：您的账单已逾期\r\n";
    let t = parse(text, Format::Text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.dpd, Some(12));
    assert_eq!(t.meta.agent_id.as_deref(), Some("A1023"));
    assert_eq!(t.meta.agent_name.as_deref(), Some("王敏"));
    assert_eq!(t.meta.team.as_deref(), Some("二组"));
    assert_eq!(
        t.meta.started_at.as_deref(),
        Some("2026-12-01T10:30:00+08:00")
    );
    assert_eq!(t.meta.direction.as_deref(), Some("outbound"));
    assert_eq!(
        t.meta.extra.get("活动").and_then(|v| v.as_str()),
        Some("双十二回访")
    );
    assert_eq!(
        speakers(&t),
        vec![Speaker::Agent, Speaker::Customer, Speaker::Agent]
    );
    let times: Vec<(Option<f64>, Option<f64>)> = t.turns.iter().map(|x| (x.start, x.end)).collect();
    assert_eq!(
        times,
        vec![
            (Some(1.0), Some(4.0)),
            (Some(4.0), Some(9.0)),
            (Some(9.0), None)
        ]
    );
    assert!(t.turns.iter().all(|x| !x.text.contains('\r')));
    // The same through every entry point that strips nothing itself: a BOM before `WEBVTT`.
    let vtt = "\u{feff}WEBVTT\r\n\r\nNOTE\r\ndpd: 30\r\nagent_id: B7\r\n\r\n00:00:01.000 --> 00:00:02.000\r\n<v 坐席>您好\r\n";
    let t = parse(vtt, Format::Vtt).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((t.dpd, t.meta.agent_id.as_deref()), (Some(30), Some("B7")));
}

#[test]
fn an_srt_file_carries_dpd_and_metadata_in_a_header_block() {
    let srt = "# dpd: 45\n# call_id: C-9\n\n1\n00:00:01,000 --> 00:00:02,000\n坐席：您好\n";
    let t = parse(srt, Format::Srt).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.dpd, Some(45));
    assert_eq!(t.meta.call_id.as_deref(), Some("C-9"));
    let bad = parse(
        "# dpd: 十二\n\n1\n00:00:01,000 --> 00:00:02,000\n坐席：您好\n",
        Format::Srt,
    );
    let e = bad.err();
    assert!(
        e.as_ref()
            .is_some_and(|e| e.message.contains("逾期天数不是数字")),
        "{e:?}"
    );
    assert_eq!(e.and_then(|e| e.location).and_then(|l| l.line), Some(1));
}

#[test]
fn json_metadata_aliases_chinese_speakers_and_unknown_fields_kept() {
    let json = r#"{"call_id":"C-1","agent":"A1023","agent_name":"王敏","team":"二组","date":"2026-12-01","direction":"呼出","debtor_id":"D9","dpd":12,"queue":"M1","recording":{"url":"x"},
        "turns":[{"speaker":"坐席","text":"您好","start":0.5,"end":2.0,"confidence":0.9},{"speaker":"客户","text":"是我"},{"role":"第三方","content":"他不在"}]}"#;
    let t = parse(json, Format::Json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.id.as_deref(), Some("C-1"));
    assert_eq!(t.dpd, Some(12));
    assert_eq!(t.meta.agent_id.as_deref(), Some("A1023"));
    assert_eq!(t.meta.started_at.as_deref(), Some("2026-12-01"));
    assert_eq!(t.meta.debtor_id.as_deref(), Some("D9"));
    assert!(t.meta.extra.contains_key("queue") && t.meta.extra.contains_key("recording"));
    assert_eq!(
        speakers(&t),
        vec![Speaker::Agent, Speaker::Customer, Speaker::ThirdParty]
    );
    let e = parse(
        r#"{"turns":[{"speaker":"路人","text":"嗯"}]}"#,
        Format::Json,
    )
    .err();
    assert!(
        e.as_ref()
            .is_some_and(|e| e.message.contains("说话人 `路人` 无法识别")),
        "{e:?}"
    );
    let e = parse("{\"turns\": [", Format::Json).err();
    assert!(
        e.as_ref()
            .is_some_and(|e| e.message.contains("JSON 格式不对")),
        "{e:?}"
    );
    let e = parse(r#"{"results": []}"#, Format::Json).err();
    assert!(
        e.as_ref().is_some_and(|e| e.message.contains("无法识别")),
        "{e:?}"
    );
}

const FIXTURES: [(&str, &str); 7] = [
    (
        "aliyun stereo",
        include_str!("../../tests/transcripts/asr/aliyun_filetrans_stereo.json"),
    ),
    (
        "aliyun mono",
        include_str!("../../tests/transcripts/asr/aliyun_filetrans_mono_diarized.json"),
    ),
    (
        "tencent",
        include_str!("../../tests/transcripts/asr/tencent_describetaskstatus.json"),
    ),
    (
        "iflytek",
        include_str!("../../tests/transcripts/asr/iflytek_lfasr_getresult.json"),
    ),
    (
        "funasr",
        include_str!("../../tests/transcripts/asr/funasr_paraformer_spk.json"),
    ),
    (
        "whisperx",
        include_str!("../../tests/transcripts/asr/whisperx_diarized.json"),
    ),
    (
        "whisper",
        include_str!("../../tests/transcripts/asr/whisper_openai.json"),
    ),
];

#[test]
fn every_speech_to_text_result_reads_as_the_same_call() {
    use Speaker::{Agent, Customer};
    for (name, content) in FIXTURES {
        let t = parse(content, Format::Json).unwrap_or_else(|e| panic!("{name}: {e}"));
        let first = t.turns.first().map(|x| x.text.as_str()).unwrap_or("");
        assert!(
            first.starts_with("您好") && first.contains("张伟"),
            "{name}: {first}"
        );
        assert!(
            !t.notes.is_empty(),
            "{name}: the reader says what it assumed"
        );
        if name == "whisper" {
            // No speakers: every segment is taken as the agent's, and the note says so.
            assert!(t.turns.iter().all(|x| x.speaker == Agent), "{name}");
            assert!(t.notes.iter().any(|n| n.contains("未区分说话人")), "{name}");
            continue;
        }
        assert_eq!(
            speakers(&t),
            vec![Agent, Customer, Agent, Customer, Agent, Customer, Agent],
            "{name}"
        );
        let start = t.turns.get(2).and_then(|x| x.start).unwrap_or(0.0);
        assert!(
            (9.0..10.5).contains(&start),
            "{name}: third turn at {start} s"
        );
        assert!(t.turns.iter().all(|x| x.end >= x.start), "{name}");
    }
}

#[test]
fn the_agent_channel_can_be_the_other_one() {
    let (_, content) = FIXTURES[0];
    let t = parse_with(content, Format::Json, ParseOptions { agent_channel: 1 })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.turns.first().map(|x| x.speaker), Some(Speaker::Customer));
    let e = parse_with(content, Format::Json, ParseOptions { agent_channel: 5 }).err();
    assert!(
        e.as_ref()
            .is_some_and(|e| e.message.contains("--agent-channel")),
        "{e:?}"
    );
}
