package demo

import (
	"bytes"
	"container/heap"
	"context"
	"fmt"
	"github.com/gridhall/gridhall/internal/sampletext"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/territory"
)

// CaseVolume says how much case history SeedCasesOver writes.
type CaseVolume struct {
	// Days is how far before now the first reports go.
	Days int
	// PerDay is the mean number of reports on a working day; rest days
	// get a fifth of it (residents still report, offices are closed).
	PerDay float64
	// Seed makes the history reproducible: the same seed, volume and now
	// give the same cases.
	Seed uint64
}

// year is the demo's history: a year of about 3,900 reports.
func year() CaseVolume { return CaseVolume{Days: 365, PerDay: 14, Seed: 2630} }

// CaseSummary says what SeedCases wrote.
type CaseSummary struct {
	Cases   int                 // reports taken in
	Actions int                 // workflow steps taken on them
	Timers  int                 // warnings, overdue marks and escalations fired
	States  map[cases.State]int // where the cases stand at the end
}

// Open is how many cases still wait for someone.
func (s CaseSummary) Open() int {
	n := 0
	for st, k := range s.States {
		if !st.Final() {
			n += k
		}
	}
	return n
}

// SeedCases writes a year of Community Y's cases, ending at now: about
// 3,900 reports, 14 on an average working day (see SeedCasesOver).
func SeedCases(ctx context.Context, d cases.Deps, now time.Time) (CaseSummary, error) {
	return SeedCasesOver(ctx, d, now, year())
}

// SeedCasesOver writes the case history of the demo street over the given
// volume, ending at now, into a database that holds the demo (Seed and
// SeedDepartments). It drives the real case service on a fake clock that it
// moves through the period, so every case, stage, timeline entry, audit
// entry and notification is what the workflow itself wrote: residents,
// hotline operators and grid workers report; grid workers verify and check;
// the street's centre accepts, registers, dispatches and closes; the
// departments sign, handle, ask for more time or send a case back;
// residents rate. The case timers run at every simulated hour in which
// working time passes, so late stages are warned, marked overdue and
// escalated as they would have been.
//
// Most cases close and are rated; some are rejected, cancelled, merged as
// duplicates, reworked, extended, suspended or returned. The recent ones
// stand in every open state, and a few are placed so that at now every open
// state shows a green, a yellow and a red light.
//
// d.Clock is ignored: the history has its own clock. It is deterministic
// for a volume's seed and now.
func SeedCasesOver(ctx context.Context, d cases.Deps, now time.Time, v CaseVolume) (CaseSummary, error) {
	s := &caseSeeder{ctx: ctx, now: now.UTC(), vol: v, actors: map[string]auth.Actor{}, grids: map[string]gridStaff{},
		sum: CaseSummary{States: map[cases.State]int{}}}
	start := s.now.AddDate(0, 0, -v.Days)
	s.clock = clock.NewFake(start)
	d.Clock = s.clock
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	cfg := cases.DefaultConfig()
	// The history needs no duplicate suggestions; the duplicates it files
	// are merged by plan.
	cfg.DuplicateRadius = 0
	s.svc = cases.NewService(d, cfg)
	if err := s.load(d); err != nil {
		return s.sum, err
	}
	s.plan(start)
	if err := s.run(); err != nil {
		return s.sum, err
	}
	for _, sc := range s.all {
		s.sum.States[sc.c.State]++
	}
	return s.sum, nil
}

// seedCategory is a category the demo's cases are about, with who handles
// it and what people write.
type seedCategory struct {
	ref string
	// dept is the department the centre dispatches to; "grid" sends the
	// case to the grid worker (small matters stay in the grid).
	dept    string
	weight  int
	selfFix bool // a grid worker often fixes it on the spot
	texts   []string
	answers map[string][]string
	cat     catalog.Category
}

// seedCategories are the street's usual problems, weighted by how often
// they come: the local community matters (90–95) and the national
// catalogue's matters and components.
var seedCategories = []seedCategory{
	{ref: "M90002", dept: "grid", weight: 8, texts: []string{"楼上装修噪音扰民，协商多次无果", "邻居空调外机滴水到我家阳台", "楼上卫生间漏水，渗到我家天花板", "邻居在楼道堆放杂物占用公共空间", "邻居家的狗夜里一直叫，影响休息"}, answers: map[string][]string{"parties": {"2"}}},
	{ref: "M90001", dept: "grid", weight: 2, texts: []string{"老人反映子女不履行赡养义务，请社区调解", "夫妻长期争吵，邻居担心发生意外"}},
	{ref: "M90003", dept: "community", weight: 2, texts: []string{"地下车位被他人长期占用，多次沟通无果", "楼顶公共平台被一楼住户私自圈占"}},
	{ref: "M91002", dept: "housing", weight: 2, texts: []string{"楼道里闻到燃气味，疑似管道泄漏", "小餐馆燃气瓶放在后门通道，存在隐患"}},
	{ref: "M91003", dept: "housing", weight: 3, texts: []string{"楼道电线老化，外皮破损裸露", "单元电表箱门损坏，线路外露"}},
	{ref: "M91004", dept: "housing", weight: 2, texts: []string{"外墙瓷砖松动，有坠落危险", "老楼阳台底板开裂，钢筋外露"}},
	{ref: "M91006", dept: "water", weight: 3, texts: []string{"小区门口雨后积水严重，行人无法通行", "地下车库入口积水倒灌"}},
	{ref: "M92001", dept: "water", weight: 6, texts: []string{"单元停水一天了，没有收到通知", "自来水发黄有异味", "楼栋水压太低，高层用不上水"}},
	{ref: "M92002", dept: "community", weight: 2, texts: []string{"咨询灵活就业人员医保如何缴纳", "老人想了解养老金资格认证怎么办理"}},
	{ref: "M92003", dept: "community", weight: 1, texts: []string{"失业人员希望社区推荐就业岗位", "残疾人家属咨询就业帮扶政策"}},
	{ref: "M92005", dept: "community", weight: 1, texts: []string{"孩子入学需要居住证明，不知道去哪里开", "想咨询社区卫生服务站的家庭医生签约"}},
	{ref: "M93001", dept: "property", weight: 6, texts: []string{"单元门禁坏了一周没人修", "楼道声控灯坏了很久，老人上下楼不方便", "屋顶漏水报修半个月物业还没处理"}, answers: map[string][]string{"property_company": {"中南物业"}}},
	{ref: "M93002", dept: "property", weight: 5, texts: []string{"楼道垃圾堆放多日无人清理", "小区绿化带里有大量垃圾"}, answers: map[string][]string{"property_company": {"中南物业"}}},
	{ref: "M93003", dept: "property", weight: 4, texts: []string{"小区消防通道被私家车长期占用", "外来车辆随意进出小区停车"}},
	{ref: "M93004", dept: "property", weight: 2, texts: []string{"物业费上涨没有公示", "停车费收费标准不清楚"}},
	{ref: "M93005", dept: "property", weight: 4, texts: []string{"电梯频繁停运，老人上下楼困难", "电梯里有异响，担心安全", "电梯困人，物业半小时才到"}, answers: map[string][]string{"property_company": {"丁字桥物业"}}},
	{ref: "M93006", dept: "property", weight: 2, texts: []string{"小区大门夜间无人值守", "门禁系统损坏，陌生人随意进出"}},
	{ref: "M94002", dept: "grid", weight: 2, texts: []string{"独居老人几天没出门，邻居担心", "请网格员帮忙看看楼上独居的王奶奶"}},
	{ref: "M95001", dept: "community", weight: 1, texts: []string{"建议社区定期召开居民议事会", "建议在小区设立意见箱"}},
	{ref: "M95002", dept: "community", weight: 1, texts: []string{"建议在小区增加休息座椅", "建议增设电动自行车充电桩"}},
	{ref: "M95003", dept: "community", weight: 1, texts: []string{"建议在路口增加垃圾分类投放点", "建议补种小区里枯死的树木"}},
	{ref: "M95004", dept: "community", weight: 1, texts: []string{"社区服务大厅午间无人值班", "办事窗口排队时间太长"}},
	{ref: "M95005", dept: "community", weight: 1, texts: []string{"感谢网格员帮助独居老人修好水管", "感谢社区及时处理楼道积水"}},
	{ref: "M06010", dept: "sanitation", weight: 6, selfFix: true, texts: []string{"路边有暴露垃圾，气味很大", "垃圾桶旁堆了好几袋生活垃圾"}},
	{ref: "M06012", dept: "sanitation", weight: 4, selfFix: true, texts: []string{"人行道上有大量落叶和杂物", "路面有油污，行人容易滑倒"}},
	{ref: "M06042", dept: "sanitation", weight: 4, texts: []string{"垃圾站满溢，垃圾散落一地", "分类垃圾箱装满了没人清运"}},
	{ref: "M06041", dept: "sanitation", weight: 2, texts: []string{"餐馆把厨余垃圾混在其他垃圾里", "小区垃圾分类投放点无人指导"}},
	{ref: "M06036", dept: "urban-mgmt", weight: 5, selfFix: true, texts: []string{"人行道上乱堆杂物", "楼道口堆放废旧家具和纸箱"}},
	{ref: "M06013", dept: "urban-mgmt", weight: 3, texts: []string{"路面塌陷出现大坑", "人行道地砖破损翘起，容易绊倒"}},
	{ref: "M06028", dept: "urban-mgmt", weight: 3, texts: []string{"商铺音箱外放声音太大", "夜间广场舞音乐扰民"}},
	{ref: "M06027", dept: "urban-mgmt", weight: 2, texts: []string{"餐馆油烟直排居民楼", "烧烤店油烟熏到楼上住户"}},
	{ref: "M06001", dept: "urban-mgmt", weight: 2, texts: []string{"顶楼住户私自加盖房屋", "一楼住户在绿地上私搭棚子"}},
	{ref: "M06035", dept: "sanitation", weight: 2, selfFix: true, texts: []string{"路边丢弃旧沙发和床垫", "废弃冰箱放在单元门口"}},
	{ref: "M06034", dept: "urban-mgmt", weight: 1, texts: []string{"路边一辆车积满灰尘，长期无人使用", "僵尸电动车占用停车位"}},
	{ref: "M06040", dept: "urban-mgmt", weight: 2, texts: []string{"公共车位被私设地锁", "店门口私设阻车桩"}},
	{ref: "M06051", dept: "urban-mgmt", weight: 1, texts: []string{"盲道被破坏，砖块缺失", "盲道上有井盖缺失"}},
	{ref: "M07001", dept: "urban-mgmt", weight: 5, selfFix: true, texts: []string{"单元门口贴满小广告", "电线杆上贴了很多办证广告"}},
	{ref: "M08001", dept: "housing", weight: 3, texts: []string{"工地夜间施工，噪音很大", "周末清早就开始装修施工"}},
	{ref: "M08004", dept: "housing", weight: 2, texts: []string{"工地没有覆盖，扬尘严重", "渣土车经过时尘土飞扬"}},
	{ref: "M09006", dept: "urban-mgmt", weight: 4, texts: []string{"早点摊占用人行道经营", "水果摊摆到了马路上"}},
	{ref: "M09005", dept: "urban-mgmt", weight: 3, texts: []string{"饭店在门外摆桌经营", "商铺把货物摆到店外"}},
	{ref: "M09009", dept: "urban-mgmt", weight: 4, texts: []string{"机动车停在人行道上", "路口乱停车，影响通行"}},
	{ref: "M09010", dept: "urban-mgmt", weight: 3, selfFix: true, texts: []string{"电动车堆在单元门口", "非机动车乱停堵住盲道"}},
	{ref: "M09011", dept: "urban-mgmt", weight: 2, selfFix: true, texts: []string{"共享单车堆满路口", "共享单车倒在人行道上"}},
	{ref: "M09012", dept: "urban-mgmt", weight: 3, texts: []string{"消防通道被车辆堵住", "消防通道上堆放杂物"}},
	{ref: "M01037", dept: "urban-mgmt", weight: 4, texts: []string{"路灯不亮，晚上很黑", "路灯白天一直亮着"}},
	{ref: "M01001", dept: "water", weight: 2, texts: []string{"供水井盖松动，车辆经过响声大", "井盖缺失，有人差点掉下去"}},
	{ref: "M01002", dept: "water", weight: 2, texts: []string{"污水井冒水，路面污水横流", "污水井盖破损"}},
	{ref: "M01004", dept: "water", weight: 1, texts: []string{"雨水箅子被垃圾堵塞", "雨水箅子缺失"}},
	{ref: "M03005", dept: "sanitation", weight: 2, texts: []string{"垃圾箱破损，盖子不见了", "垃圾箱被撞倒"}},
	{ref: "M03001", dept: "sanitation", weight: 1, texts: []string{"公共厕所冲水坏了", "公厕洗手池没有水"}},
	{ref: "M01046", dept: "urban-mgmt", weight: 1, texts: []string{"小游园健身器材损坏", "健身器材螺丝松动有危险"}},
	{ref: "M01054", dept: "urban-mgmt", weight: 1, texts: []string{"充电桩无法充电", "充电桩外壳破损，电线外露"}},
	{ref: "C01037", dept: "urban-mgmt", weight: 2, texts: []string{"巡查发现路灯灯杆倾斜", "巡查发现路灯灯罩破损"}},
	{ref: "C01001", dept: "water", weight: 1, texts: []string{"巡查发现供水井盖破损", "供水井盖下沉"}},
	{ref: "C01003", dept: "water", weight: 1, texts: []string{"雨水井盖缺失", "雨水井盖移位"}},
	{ref: "C03005", dept: "sanitation", weight: 2, texts: []string{"巡查发现垃圾箱破损", "果皮箱缺失"}},
	{ref: "C01046", dept: "urban-mgmt", weight: 1, texts: []string{"巡查发现健身器材损坏", "单杠底座松动"}},
}

// departments the demo has handlers for: a wrongly dispatched case goes to
// one of them before it is returned.
var seedDepartments = []string{"water", "sanitation", "housing", "community", "property", "urban-mgmt"}

// callers are the names hotline callers give.
var callers = []string{"陈先生", "刘女士", "张师傅", "李阿姨", "王先生", "赵女士", "黄先生"}

// gridStaff are the people who work a grid.
type gridStaff struct {
	code, worker, leader string
}

// move is one step a simulated person takes on a case.
type move struct {
	who    string
	action cases.Action
	in     cases.Input
	photo  bool
}

// simCase is one case of the history: what it is about, how it will go,
// and where it stands.
type simCase struct {
	n        int
	rng      *rand.Rand
	cat      *seedCategory
	b        territory.Building
	grid     gridStaff
	channel  cases.Channel
	reporter string
	urgency  catalog.Urgency
	text     string
	self     bool // reported as fixed on the spot
	at       time.Time
	c        cases.Case
	next     move

	// How the case will go, drawn when it is planned.
	reject, cancel      bool
	dupOf               *simCase
	wrongDept           string // dispatched here first, then returned or transferred
	transfer            bool   // the centre moves it itself instead of a return
	reworks             int
	checkRework         bool // the duty chief sends it back at closing
	extension, refuse   bool
	suspend             int // 1: suspended and resumed; 2: still suspended
	assist              bool
	rating              cases.Rating
	script              []time.Time // showcase cases: the time of every step
	done                int         // steps taken
	extended, urged     bool
	handlePace          float64 // drawn before an urge, kept for the handling after it
	suspended, assisted bool
}

type event struct {
	at  time.Time
	seq int
	c   *simCase
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type caseSeeder struct {
	ctx       context.Context
	now       time.Time
	vol       CaseVolume
	clock     *clock.Fake
	svc       *cases.Service
	cal       *calendar.Calendar
	users     *auth.Service
	actors    map[string]auth.Actor
	grids     map[string]gridStaff
	buildings []territory.Building
	cats      []*seedCategory
	weights   int
	photos    [][]byte
	all       []*simCase
	q         eventQueue
	seq       int
	tick      time.Time
	sum       CaseSummary
}

// load reads what the history is built on: buildings, grid staff, the
// categories, the calendar and the accounts.
func (s *caseSeeder) load(d cases.Deps) error {
	ctx := s.ctx
	s.users = d.Users
	if err := d.Territory.Locator().Refresh(ctx); err != nil {
		return fmt.Errorf("demo cases: territory index: %w", err)
	}
	planner := auth.SystemActorAs("demo", auth.DistrictAdmin)
	var after int64
	for {
		page, err := d.Territory.Buildings(ctx, planner, territory.BuildingFilter{AfterID: after, Limit: 500})
		if err != nil {
			return fmt.Errorf("demo cases: buildings: %w", err)
		}
		s.buildings = append(s.buildings, page...)
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	staff, err := d.Territory.Staff(ctx, planner, "")
	if err != nil {
		return fmt.Errorf("demo cases: grid staff: %w", err)
	}
	for _, m := range staff {
		g := s.grids[m.GridCode]
		g.code = m.GridCode
		if m.Duty == territory.DutyWorker {
			g.worker = m.Username
		} else {
			g.leader = m.Username
		}
		s.grids[m.GridCode] = g
	}
	if len(s.buildings) == 0 || len(s.grids) == 0 {
		return fmt.Errorf("demo cases: seed the demo street first")
	}
	for _, b := range s.buildings {
		if g := s.grids[b.GridCode]; g.worker == "" || g.leader == "" {
			return fmt.Errorf("demo cases: grid %s has no worker or leader", b.GridCode)
		}
	}
	for i := range seedCategories {
		sc := seedCategories[i]
		c, err := d.Catalog.ByRef(ctx, sc.ref)
		if err != nil {
			return fmt.Errorf("demo cases: category %s: %w", sc.ref, err)
		}
		sc.cat = c
		s.cats = append(s.cats, &sc)
		s.weights += sc.weight
	}
	if s.cal, err = d.Calendar.For(ctx, DistrictCode); err != nil {
		return fmt.Errorf("demo cases: calendar: %w", err)
	}
	names := []string{"street", "resident"}
	names = append(names, seedDepartments...)
	for _, g := range s.grids {
		names = append(names, g.worker, g.leader)
	}
	for _, n := range names {
		if _, err := s.actor(n); err != nil {
			return err
		}
	}
	for i := range 6 {
		s.photos = append(s.photos, scenePhoto(i))
	}
	return nil
}

func (s *caseSeeder) actor(name string) (auth.Actor, error) {
	if a, ok := s.actors[name]; ok {
		return a, nil
	}
	u, err := s.users.UserByName(s.ctx, auth.SystemActor("demo"), name)
	if err != nil {
		return auth.Actor{}, fmt.Errorf("demo cases: account %s: %w", name, err)
	}
	a, err := s.users.ActorOf(s.ctx, u.ID)
	if err != nil {
		return auth.Actor{}, fmt.Errorf("demo cases: account %s: %w", name, err)
	}
	s.actors[name] = a
	return a, nil
}

// scenePhoto is a small JPEG standing in for a photo taken on site: a
// gradient in one of six tints.
func scenePhoto(i int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 96, 72))
	for x := range 96 {
		for y := range 72 {
			img.Set(x, y, color.RGBA{uint8(40 + x + 30*i), uint8(60 + y*2), uint8(200 - 25*i), 255})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 70})
	return b.Bytes()
}

// plan draws every report of the period and the showcase cases, and queues
// their first steps.
func (s *caseSeeder) plan(start time.Time) {
	rng := rand.New(rand.NewPCG(s.vol.Seed, 1))
	cst := calendar.Location()
	day := time.Date(start.In(cst).Year(), start.In(cst).Month(), start.In(cst).Day(), 0, 0, 0, 0, cst)
	for ; day.Before(s.now); day = day.AddDate(0, 0, 1) {
		work := s.cal.IsWorkday(day)
		mean := s.vol.PerDay
		if !work {
			mean /= 5
		}
		for range poisson(rng, mean) {
			at := day.Add(reportHour(rng, work))
			if at.Before(start) || !at.Before(s.now) {
				continue
			}
			sc := s.newCase(at)
			s.add(sc, at)
			// Now and then a second person reports the same thing.
			if sc.cat.cat.Public && !sc.self && rng.Float64() < 0.02 {
				dupAt := at.Add(time.Duration(1+rng.IntN(30)) * time.Hour)
				if dupAt.Before(s.now) {
					dup := s.newCase(dupAt)
					dup.cat, dup.b, dup.grid, dup.channel, dup.reporter = sc.cat, sc.b, sc.grid, cases.Web, "resident"
					dup.self, dup.reject, dup.cancel, dup.dupOf = false, false, false, sc
					dup.text = "同样的问题：" + sc.text
					s.add(dup, dupAt)
				}
			}
		}
	}
	s.showcase()
}

// reportHour is when in the day a report comes: office hours mostly on
// working days, spread over the waking day otherwise.
func reportHour(rng *rand.Rand, work bool) time.Duration {
	if !work {
		return time.Duration(8*60+rng.IntN(13*60)) * time.Minute
	}
	// Morning and afternoon peaks, some early and evening reports.
	spans := []struct{ from, to, weight int }{{7, 9, 8}, {9, 12, 40}, {12, 13, 5}, {13, 18, 38}, {18, 22, 9}}
	x := rng.IntN(100)
	for _, sp := range spans {
		if x < sp.weight {
			return time.Duration(sp.from*60+rng.IntN((sp.to-sp.from)*60)) * time.Minute
		}
		x -= sp.weight
	}
	return 10 * time.Hour
}

func poisson(rng *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// newCase draws what a report is about and how its case will go.
func (s *caseSeeder) newCase(at time.Time) *simCase {
	n := len(s.all)
	rng := rand.New(rand.NewPCG(s.vol.Seed, uint64(n)+2))
	sc := &simCase{n: n, rng: rng, at: at, urgency: catalog.Normal}
	switch x := rng.Float64(); {
	case x < 0.35:
		sc.channel = cases.Patrol
	case x < 0.65:
		sc.channel = cases.Web
	case x < 0.90:
		sc.channel = cases.Hotline
	default:
		sc.channel = cases.API
	}
	for {
		sc.cat = s.drawCategory(rng)
		if sc.cat.cat.Public || sc.channel == cases.Patrol || sc.channel == cases.Hotline {
			break
		}
	}
	sc.b = sampletext.Pick(rng, s.buildings)
	sc.grid = s.grids[sc.b.GridCode]
	sc.text = sampletext.Pick(rng, sc.cat.texts)
	switch sc.channel {
	case cases.Patrol:
		sc.reporter = sc.grid.worker
		sc.self = sc.cat.selfFix && rng.Float64() < 0.5
	case cases.Hotline:
		sc.reporter = "street"
	default:
		sc.reporter = "resident"
	}
	switch x := rng.Float64(); {
	case x < 0.03:
		sc.urgency = catalog.Urgent
	case x < 0.15:
		sc.urgency = catalog.Pressing
	}
	if sc.self {
		sc.urgency = catalog.Normal
	}
	public := sc.channel != cases.Patrol
	sc.reject = public && rng.Float64() < 0.04
	sc.cancel = !sc.reject && !sc.self && rng.Float64() < 0.02
	if !sc.self && sc.cat.dept != "grid" && rng.Float64() < 0.04 {
		for sc.wrongDept == "" || sc.wrongDept == sc.cat.dept {
			sc.wrongDept = sampletext.Pick(rng, seedDepartments)
		}
		sc.transfer = rng.Float64() < 0.3
	}
	if rng.Float64() < 0.06 {
		sc.reworks = 1
		if rng.Float64() < 0.15 {
			sc.reworks = 2
		}
	}
	sc.checkRework = rng.Float64() < 0.01
	if !sc.self && sc.cat.dept != "grid" {
		sc.extension = rng.Float64() < 0.07
		sc.refuse = rng.Float64() < 0.2
		sc.assist = rng.Float64() < 0.02
		switch x := rng.Float64(); {
		case x < 0.003:
			sc.suspend = 2
		case x < 0.025:
			sc.suspend = 1
		}
	}
	// Residents and hotline callers are asked to rate; most do. A bumpy
	// case is rated worse.
	if sc.channel != cases.Patrol && rng.Float64() < 0.92 {
		unsat, basic := 0.03, 0.13
		if sc.reworks > 0 || sc.suspend > 0 || sc.extension {
			unsat, basic = 0.16, 0.3
		}
		switch x := rng.Float64(); {
		case x < unsat:
			sc.rating = cases.Unsatisfied
		case x < unsat+basic:
			sc.rating = cases.BasicallySatisfied
		default:
			sc.rating = cases.Satisfied
		}
	}
	return sc
}

func (s *caseSeeder) drawCategory(rng *rand.Rand) *seedCategory {
	x := rng.IntN(s.weights)
	for _, c := range s.cats {
		if x < c.weight {
			return c
		}
		x -= c.weight
	}
	return s.cats[0]
}

func (s *caseSeeder) add(sc *simCase, at time.Time) {
	s.all = append(s.all, sc)
	s.push(sc, at)
}

func (s *caseSeeder) push(sc *simCase, at time.Time) {
	s.seq++
	heap.Push(&s.q, event{at: at, seq: s.seq, c: sc})
}

// showcase plans cases that stand, at now, in every open state with every
// light: for each state one well inside its limit, one close to it and one
// past it; two suspended ones; and one whose department waits for an
// answer to its request for more time.
func (s *caseSeeder) showcase() {
	path := []cases.State{cases.Reported, cases.Verified, cases.Accepted, cases.Registered, cases.Dispatched,
		cases.Handling, cases.Handled, cases.Checked}
	for i, target := range path {
		for j, frac := range []float64{0.3, 0.9, 1.7} {
			s.script(s.newShowcase(i*3+j), i, target, frac)
		}
	}
	handling := slices.Index(path, cases.Handling)
	for j := range 2 {
		sc := s.newShowcase(30 + j)
		sc.suspend = 2
		// Suspended a working day into handling, and waiting since.
		s.script(sc, handling, cases.Handling, 0.4, 8*time.Hour)
	}
	sc := s.newShowcase(40)
	sc.extension = true
	s.script(sc, handling, cases.Handling, 0.6, 15*time.Minute)
}

// newShowcase is a resident's web report that will take exactly the
// scripted steps: no rejection, rework, urging or other detour.
func (s *caseSeeder) newShowcase(k int) *simCase {
	sc := s.newCase(s.now)
	sc.channel, sc.reporter, sc.self = cases.Web, "resident", false
	for !sc.cat.cat.Public || sc.cat.dept == "grid" {
		sc.cat = s.drawCategory(sc.rng)
	}
	sc.b = s.buildings[(k*7)%len(s.buildings)]
	sc.grid = s.grids[sc.b.GridCode]
	sc.text = sampletext.Pick(sc.rng, sc.cat.texts)
	sc.urgency = catalog.Normal
	sc.reject, sc.cancel, sc.dupOf, sc.wrongDept, sc.reworks, sc.checkRework = false, false, nil, "", 0, false
	sc.extension, sc.assist, sc.suspend, sc.rating, sc.urged = false, false, 0, cases.Unrated, true
	return sc
}

// script times a showcase case's steps: steps workflow steps after the
// report bring it to state target, whose stage started so far back in
// working time that frac of its limit has passed at now; the steps are a
// quarter of a working hour apart. Extra steps follow after the given
// working times.
func (s *caseSeeder) script(sc *simCase, steps int, target cases.State, frac float64, extra ...time.Duration) {
	l, _ := limitFor(sc.cat.cat, sc.urgency, stageOfState(target))
	first := steps
	if target == cases.Accepted {
		// Accepting keeps the clock that verifying started.
		first--
	}
	times := make([]time.Time, steps+1)
	times[first] = workingBefore(s.cal, s.now, time.Duration(frac*float64(l.Duration(s.cal))))
	for k := first - 1; k >= 0; k-- {
		times[k] = workingBefore(s.cal, times[k+1], 15*time.Minute)
	}
	for k := first + 1; k <= steps; k++ {
		times[k] = s.cal.Add(times[k-1], 15*time.Minute)
	}
	for _, d := range extra {
		times = append(times, s.cal.Add(times[len(times)-1], d))
	}
	sc.script = times
	sc.at = times[0]
	s.add(sc, times[0])
}

// stageOfState is the stage whose limit runs while a case is in state st.
func stageOfState(st cases.State) catalog.Stage {
	switch st {
	case cases.Reported:
		return catalog.Verify
	case cases.Verified, cases.Accepted, cases.Checked:
		return catalog.Register
	case cases.Registered:
		return catalog.Dispatch
	case cases.Dispatched:
		return catalog.Sign
	case cases.Handling:
		return catalog.Handle
	case cases.Handled:
		return catalog.Check
	}
	return ""
}

func limitFor(c catalog.Category, u catalog.Urgency, st catalog.Stage) (calendar.Limit, bool) {
	if l, ok := c.Limits.For(u, st); ok {
		return l, true
	}
	return catalog.DefaultLimits().For(u, st)
}

// workingBefore is the latest instant t with d of working time between t
// and at.
func workingBefore(cal *calendar.Calendar, at time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return at
	}
	gap := d
	for cal.Working(at.Add(-gap), at) < d {
		gap *= 2
	}
	lo, hi := at.Add(-gap), at // Working(lo, at) ≥ d > Working(hi, at)
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if cal.Working(mid, at) >= d {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo.Truncate(time.Second)
}

// run plays the queued steps in time order, firing the case timers every
// simulated hour in between, and at now.
func (s *caseSeeder) run() error {
	s.tick = s.clock.Now().Truncate(time.Hour).Add(time.Hour)
	for s.q.Len() > 0 {
		e := heap.Pop(&s.q).(event)
		if err := s.timersUntil(e.at); err != nil {
			return err
		}
		s.clock.Set(e.at)
		if err := s.step(e.c); err != nil {
			return err
		}
		if at, ok := s.decide(e.c); ok {
			s.push(e.c, at)
		}
	}
	if err := s.timersUntil(s.now); err != nil {
		return err
	}
	s.clock.Set(s.now)
	return s.fire()
}

// timersUntil fires the timers at every hour up to t in which working time
// passed: a timer only ever comes due inside working time.
func (s *caseSeeder) timersUntil(t time.Time) error {
	for !s.tick.After(t) {
		if s.cal.Working(s.tick.Add(-time.Hour), s.tick) > 0 {
			s.clock.Set(s.tick)
			if err := s.fire(); err != nil {
				return err
			}
		}
		s.tick = s.tick.Add(time.Hour)
	}
	return nil
}

func (s *caseSeeder) fire() error {
	for {
		n, err := s.svc.RunTimers(s.ctx)
		if err != nil {
			return fmt.Errorf("demo cases: timers at %s: %w", s.clock.Now().Format(time.RFC3339), err)
		}
		s.sum.Timers += n
		if n == 0 {
			return nil
		}
	}
}

// step takes a case's pending step: the report itself, or the move decided
// when it was scheduled.
func (s *caseSeeder) step(sc *simCase) error {
	if sc.c.ID == 0 {
		return s.report(sc)
	}
	m := sc.next
	if m.action == cases.Merge && sc.dupOf.c.State.Final() {
		// The earlier report was closed or turned down meanwhile: this one
		// is verified on its own.
		m = move{who: sc.grid.worker, action: cases.Verify}
	}
	a, err := s.actor(m.who)
	if err != nil {
		return err
	}
	if m.photo {
		m.in.Photos = []cases.Upload{{Name: "scene.jpg", R: bytes.NewReader(s.photos[sc.rng.IntN(len(s.photos))])}}
	}
	c, err := s.svc.Act(s.ctx, a, sc.c.ID, m.action, m.in)
	if err != nil {
		return fmt.Errorf("demo cases: %s %s case %s (%s) at %s: %w", m.who, m.action, sc.c.Number, sc.c.State,
			s.clock.Now().Format(time.RFC3339), err)
	}
	sc.c = c
	sc.done++
	s.sum.Actions++
	return nil
}

func (s *caseSeeder) report(sc *simCase) error {
	a, err := s.actor(sc.reporter)
	if err != nil {
		return err
	}
	lng, lat := sc.b.Lng, sc.b.Lat
	in := cases.NewCase{Category: sc.cat.ref, Urgency: sc.urgency, Description: sc.text, Address: sc.b.Address,
		Lng: &lng, Lat: &lat, Channel: sc.channel, Answers: sc.cat.answers}
	switch sc.channel {
	case cases.Hotline:
		in.Contact = cases.Contact{Name: sampletext.Pick(sc.rng, callers), Phone: fmt.Sprintf("13%d%08d", 5+sc.rng.IntN(5), sc.rng.IntN(100_000_000))}
	case cases.Web:
		if sc.rng.Float64() < 0.4 {
			in.Photos = []cases.Upload{{Name: "report.jpg", R: bytes.NewReader(s.photos[sc.rng.IntN(len(s.photos))])}}
		}
	}
	if sc.self {
		in.SelfHandled, in.Result = true, sampletext.Pick(sc.rng, sampletext.Fix)
		in.ResultPhotos = []cases.Upload{{Name: "fixed.jpg", R: bytes.NewReader(s.photos[sc.rng.IntN(len(s.photos))])}}
	}
	got, err := s.svc.Report(s.ctx, a, in)
	if err != nil {
		return fmt.Errorf("demo cases: %s reports %s at %s: %w", sc.reporter, sc.cat.ref, s.clock.Now().Format(time.RFC3339), err)
	}
	sc.c = got.Case
	sc.done++
	s.sum.Cases++
	return nil
}

// decide chooses a case's next step and when it comes; false when the case
// is done or its next step lies after now.
func (s *caseSeeder) decide(sc *simCase) (time.Time, bool) {
	m, at, ok := s.nextMove(sc)
	if !ok {
		return time.Time{}, false
	}
	if sc.script != nil {
		if sc.done >= len(sc.script) {
			return time.Time{}, false
		}
		at = sc.script[sc.done]
	}
	if soon := s.clock.Now().Add(time.Minute); at.Before(soon) {
		at = soon
	}
	if !at.Before(s.now) {
		return time.Time{}, false
	}
	sc.next = m
	return at, true
}

// within is the instant at which frac of the case's current stage limit
// has passed, in working time.
func (s *caseSeeder) within(c cases.Case, frac float64) time.Time {
	if c.StageDueAt.IsZero() {
		return s.cal.Add(s.clock.Now(), time.Duration(frac*float64(2*time.Hour)))
	}
	limit := s.cal.Working(c.StageStartedAt, c.StageDueAt)
	return s.cal.Add(c.StageStartedAt, time.Duration(frac*float64(limit)))
}

// after is the instant d of working time from now on the simulated clock.
func (s *caseSeeder) after(d time.Duration) time.Time { return s.cal.Add(s.clock.Now(), d) }

func (s *caseSeeder) assignee(sc *simCase) string {
	if sc.c.AssigneeKind == cases.ToUser {
		id, _ := strconv.ParseInt(sc.c.Assignee, 10, 64)
		for name, a := range s.actors {
			if a.UserID == id {
				return name
			}
		}
	}
	return sc.c.Assignee
}

// checker is who checks a result on site: the grid worker, or the grid's
// leader when the worker did the work.
func (s *caseSeeder) checker(sc *simCase) string {
	if sc.c.HandlerID == s.actors[sc.grid.worker].UserID {
		return sc.grid.leader
	}
	return sc.grid.worker
}

func (s *caseSeeder) nextMove(sc *simCase) (move, time.Time, bool) {
	c, rng := sc.c, sc.rng
	const centre = "street"
	note := func(xs []string) cases.Input { return cases.Input{Note: sampletext.Pick(rng, xs)} }
	switch c.State {
	case cases.Reported:
		if sc.dupOf != nil && sc.dupOf.c.ID != 0 && !sc.dupOf.c.State.Final() {
			return move{who: sc.grid.worker, action: cases.Merge, in: cases.Input{Target: sc.dupOf.c.Number}}, s.within(c, 0.1+0.4*rng.Float64()), true
		}
		if sc.reject && rng.Float64() < 0.5 {
			return move{who: centre, action: cases.Reject, in: note(sampletext.Reject)}, s.within(c, sampletext.Pace(rng)), true
		}
		return move{who: sc.grid.worker, action: cases.Verify, in: cases.Input{Note: "已到现场核实"}}, s.within(c, sampletext.Pace(rng)), true
	case cases.Verified:
		if sc.reject {
			return move{who: centre, action: cases.Reject, in: note(sampletext.Reject)}, s.within(c, sampletext.Pace(rng)), true
		}
		return move{who: centre, action: cases.Accept}, s.within(c, sampletext.Pace(rng)*0.5), true
	case cases.Accepted:
		if sc.cancel && rng.Float64() < 0.4 {
			return move{who: centre, action: cases.Cancel, in: note(sampletext.Cancel)}, s.within(c, sampletext.Pace(rng)), true
		}
		return move{who: centre, action: cases.Register}, s.within(c, sampletext.Pace(rng)), true
	case cases.Registered:
		if sc.cancel {
			// Found wrong after registering: the case is voided, and counts
			// against accurate registering.
			return move{who: centre, action: cases.Cancel, in: note(sampletext.Cancel)}, s.within(c, sampletext.Pace(rng)), true
		}
		target := "department:" + sc.cat.dept
		if sc.cat.dept == "grid" {
			target = "user:" + strconv.FormatInt(s.actors[sc.grid.worker].UserID, 10)
		} else if sc.wrongDept != "" && c.Redispatches == 0 {
			target = "department:" + sc.wrongDept
		}
		return move{who: centre, action: cases.Dispatch, in: cases.Input{Target: target}}, s.within(c, sampletext.Pace(rng)), true
	case cases.Dispatched:
		if sc.wrongDept != "" && c.Assignee == sc.wrongDept {
			if sc.transfer {
				return move{who: centre, action: cases.Transfer, in: cases.Input{Target: "department:" + sc.cat.dept, Note: "派遣有误，转办"}}, s.within(c, 0.5*sampletext.Pace(rng)), true
			}
			return move{who: sc.wrongDept, action: cases.Return, in: note(sampletext.Return)}, s.within(c, sampletext.Pace(rng)), true
		}
		return move{who: s.assignee(sc), action: cases.Sign}, s.within(c, sampletext.Pace(rng)), true
	case cases.Handling:
		who := s.assignee(sc)
		switch {
		case c.ExtensionPending != "":
			if sc.refuse {
				return move{who: centre, action: cases.RefuseExtension, in: cases.Input{Note: "时限内可以完成，不予延期"}}, s.after(time.Duration(1+rng.IntN(4)) * time.Hour), true
			}
			return move{who: centre, action: cases.ApproveExtension}, s.after(time.Duration(1+rng.IntN(4)) * time.Hour), true
		case sc.extension && !sc.extended:
			sc.extended = true
			l := calendar.Limit{Amount: 2 + rng.IntN(4), Unit: calendar.Days}
			return move{who: who, action: cases.RequestExtension, in: cases.Input{Note: sampletext.Pick(rng, sampletext.Extend), Limit: l}}, s.within(c, 0.5+0.3*rng.Float64()), true
		case sc.suspend > 0 && !sc.suspended:
			sc.suspended = true
			return move{who: centre, action: cases.Suspend, in: note(sampletext.Suspend)}, s.within(c, 0.2+0.3*rng.Float64()), true
		case sc.assist && !sc.assisted:
			sc.assisted = true
			helper := sampletext.Pick(rng, seedDepartments)
			for helper == c.Assignee {
				helper = sampletext.Pick(rng, seedDepartments)
			}
			return move{who: centre, action: cases.Assist, in: cases.Input{Target: "department:" + helper}}, s.within(c, 0.1), true
		}
		p := sc.handlePace
		if p == 0 {
			p = sampletext.Pace(rng)
		}
		if p > 0.9 && !sc.urged {
			// The supervisor urges a case that runs late; the department
			// finishes it when it would have anyway.
			sc.urged, sc.handlePace = true, p
			return move{who: centre, action: cases.Urge, in: note(sampletext.Urge)}, s.within(c, 0.85), true
		}
		sc.handlePace = 0
		result := sampletext.Handle
		if c.AssigneeKind == cases.ToUser {
			result = sampletext.Grid
		}
		return move{who: who, action: cases.Handle, in: note(result), photo: true}, s.within(c, p), true
	case cases.Suspended:
		if sc.suspend == 2 {
			return move{}, time.Time{}, false
		}
		return move{who: centre, action: cases.Resume}, s.after(time.Duration(3+rng.IntN(25)) * 8 * time.Hour), true
	case cases.Handled:
		if c.Reworks < sc.reworks {
			return move{who: s.checker(sc), action: cases.Rework, in: note(sampletext.Rework)}, s.within(c, sampletext.Pace(rng)), true
		}
		return move{who: s.checker(sc), action: cases.Check, in: cases.Input{Note: "现场核查，问题已解决"}}, s.within(c, sampletext.Pace(rng)), true
	case cases.Checked:
		if sc.checkRework && c.Reworks == 0 {
			return move{who: centre, action: cases.Rework, in: note(sampletext.Rework)}, s.within(c, sampletext.Pace(rng)), true
		}
		return move{who: centre, action: cases.Close}, s.within(c, sampletext.Pace(rng)), true
	case cases.Closed:
		if sc.rating == cases.Unrated || c.Rating != cases.Unrated {
			return move{}, time.Time{}, false
		}
		at := s.clock.Now().Add(time.Duration(30+rng.IntN(72*60)) * time.Minute)
		return move{who: sc.reporter, action: cases.Rate, in: cases.Input{Rating: sc.rating, Note: sampletext.Pick(rng, sampletext.Rate[sc.rating])}}, at, true
	}
	return move{}, time.Time{}, false
}
