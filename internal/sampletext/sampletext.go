// Package sampletext holds what generated case histories are drawn from —
// the Chinese phrases of their timelines and the pace of their steps —
// shared by the demo street (played through the real workflow) and
// `gridhall gen` (written in bulk), so that both read like the same city's
// records.
package sampletext

import "math/rand/v2"

// Pick draws one of xs.
func Pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// Pace is how much of a stage's limit a step takes: mostly well inside it,
// sometimes close to it, now and then past it.
func Pace(rng *rand.Rand) float64 {
	switch x := rng.Float64(); {
	case x < 0.70:
		return 0.05 + 0.5*rng.Float64()
	case x < 0.91:
		return 0.55 + 0.43*rng.Float64()
	default:
		return 1.02 + 1.2*rng.Float64()
	}
}

// Notes staff and residents write at each kind of step.
var (
	Reject  = []string{"不属于本平台受理范围，已告知通过12345热线反映", "经核实问题不存在", "属于民事纠纷，已引导通过司法途径解决", "反映内容不清，无法核实"}
	Cancel  = []string{"重复立案，作废", "经核实已由权属单位自行处理", "立案信息有误，作废重报"}
	Return  = []string{"不属于本单位职责，请重新派遣", "该设施权属不在本单位", "派遣有误，应由其他部门处理"}
	Rework  = []string{"现场核查问题未彻底解决，请返工", "处理结果不符合要求，居民仍有意见", "照片与现场不符，请重新处理"}
	Extend  = []string{"需要采购材料，申请延期", "涉及多户协调，申请延期", "天气原因无法施工，申请延期"}
	Suspend = []string{"需纳入年度改造计划，暂时挂账", "涉及产权争议，待法院判决后处理", "需要专项资金，暂时挂账"}
	Urge    = []string{"临近处置时限，请抓紧处理", "居民多次来电催问，请尽快处置"}
	Handle  = []string{"已安排人员到现场处理完毕", "已修复，恢复正常使用", "已清理完毕并告知相关住户", "已约谈当事人并整改到位", "已协调有关方面解决"}
	// Grid is what a grid worker writes on a case settled on the spot.
	Grid = []string{"已上门调解，双方达成一致", "已入户了解情况并协助解决", "已现场处理，居民表示满意"}
	// Fix is what a patrolling worker writes on a problem fixed at once.
	Fix = []string{"现场已自行清理", "已当场劝导整改", "已当场处理完毕"}
)

// Rate holds residents' remarks by rating: index 1 satisfied, 2 basically
// satisfied, 3 unsatisfied (the values of cases.Rating); index 0 is empty.
var Rate = [4][]string{
	nil,
	{"处理很及时，谢谢", "满意", "网格员很负责"},
	{"处理了，但时间有点长", "基本解决"},
	{"问题没有根本解决", "处理太慢了", "没有人联系我"},
}
