// Generated from cbt.core (python -m cbt js-constants); do not edit by hand
export const PART_NAMES = Object.freeze({"skill": "技能考核", "theory": "理论知识"});
export const TILE_STATES = Object.freeze({"absent": "未登录", "admitted": "已入场待开考", "in_progress": "答题中", "offline": "离线", "paused": "已暂停", "submitted": "已交卷", "waiting": "已登录待入场"});
